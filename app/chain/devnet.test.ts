import { execFileSync, spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { startDevnet } from './devnet.ts';

const alive = (pid: number): boolean => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

/** The anvil processes whose parent is `pid`. */
const anvilsUnder = (pid: number): number[] =>
  execFileSync('ps', ['-o', 'pid=,comm=', '--ppid', String(pid)], { encoding: 'utf8' })
    .split('\n')
    .filter((line) => line.includes('anvil'))
    .map((line) => Number.parseInt(line, 10));

async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (check()) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return check();
}

// Skipped on Windows: there anvil is a plain child (no /bin/sh watchdog) and `ps --ppid` does not
// exist; CI and the build machines are Linux, where this runs.
describe.skipIf(process.platform === 'win32')('the devnet chain process', () => {
  it('stops with stop()', async () => {
    const devnet = await startDevnet();
    expect(await devnet.provider.getBlockNumber()).toBeGreaterThanOrEqual(1);
    await devnet.stop();
    await expect(
      fetch(devnet.rpcUrl, { method: 'POST', body: '{}', signal: AbortSignal.timeout(2000) }),
    ).rejects.toThrow();
  });

  it('does not outlive a Custos process that is killed with SIGKILL', async () => {
    // A process that starts a devnet, prints its watchdog's pid, and waits to be killed.
    const script = `
      import { startDevnet } from ${JSON.stringify(new URL('./devnet.ts', import.meta.url).href)};
      await startDevnet();
      const { execFileSync } = await import('node:child_process');
      const shells = execFileSync('ps', ['-o', 'pid=', '--ppid', String(process.pid)], { encoding: 'utf8' });
      console.log(shells.trim().split(/\\s+/)[0]);
      setInterval(() => {}, 1000);
    `;
    const custos = spawn(process.execPath, ['--input-type=module', '-e', script], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    const watchdog = await new Promise<number>((resolve, reject) => {
      custos.stdout.once('data', (d: Buffer) => resolve(Number.parseInt(d.toString(), 10)));
      custos.once('exit', (code) => reject(new Error(`exited early (${code})`)));
    });
    const [anvil] = anvilsUnder(watchdog);
    expect(anvil).toBeGreaterThan(0);
    expect(alive(anvil!)).toBe(true);

    custos.kill('SIGKILL');
    expect(await until(() => !alive(anvil!), 5000)).toBe(true);
    expect(await until(() => !alive(watchdog), 5000)).toBe(true);
  });
});
