/**
 * Test helper (fault injection, Linux): finds the process listening on a loopback TCP port, so a
 * test can crash the anvil it started (SIGKILL) the way a node dies in real life — without the
 * orderly shutdown that `Devnet.stop()` does (which also destroys the provider the app holds).
 */
import { readdir, readFile, readlink } from 'node:fs/promises';

/** The pid listening on `port` (IPv4), or null. Reads /proc only. */
export async function pidListeningOn(port: number): Promise<number | null> {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const rows = (await readFile('/proc/net/tcp', 'utf8'))
    .split('\n')
    .slice(1)
    .map((line) => line.trim().split(/\s+/));
  // Columns: sl local_address rem_address st … inode (index 9); st 0A = LISTEN.
  const inode = rows.find((f) => f[1]?.endsWith(`:${hex}`) && f[3] === '0A')?.[9];
  if (!inode) return null;
  for (const pid of await readdir('/proc')) {
    if (!/^\d+$/.test(pid)) continue;
    const fds = await readdir(`/proc/${pid}/fd`).catch(() => [] as string[]);
    for (const fd of fds) {
      const target = await readlink(`/proc/${pid}/fd/${fd}`).catch(() => '');
      if (target === `socket:[${inode}]`) return Number(pid);
    }
  }
  return null;
}

/** Kills (SIGKILL) the process listening on the port of `url`. @throws when none is found. */
export async function crashListener(url: string): Promise<void> {
  const pid = await pidListeningOn(Number(new URL(url).port));
  if (pid === null) throw new Error(`nothing listens on ${url}`);
  process.kill(pid, 'SIGKILL');
}
