// Test fixture: changes a vault's keyring as fast as it can until killed. vault.test.ts kills it
// with SIGKILL at random moments. Prints "added <id>" after each completed write.
import { Vault } from '../vault.ts';

const [dir, passA, passB] = process.argv.slice(2) as [string, string, string];
let vault: Vault;
let current = passA;
try {
  vault = await Vault.open(dir, passA, { kdf: 'interactive' });
} catch {
  vault = await Vault.open(dir, passB, { kdf: 'interactive' });
  current = passB;
}
for (let i = 0; ; i += 1) {
  const { id } = await vault.addDataset(`crash ${i}`);
  process.stdout.write(`added ${id}\n`);
  if (i % 3 === 2) {
    current = current === passA ? passB : passA;
    await vault.changePassphrase(current);
    process.stdout.write(`passphrase ${current === passA ? 'A' : 'B'}\n`);
  }
}
