import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cidOfFile } from '../../ipfs/index.ts';
import { ClusterPeer } from '../../ipfs/cluster-process.ts';
import { KuboDaemon, kuboBinary } from '../../ipfs/kubo-process.ts';
import { KuboRpcBackend } from '../../ipfs/kubo-rpc.ts';
import { startPinningServer } from '../../ipfs/pinning-service-server.ts';
import { main } from '../main.ts';
import { bufferIo } from '../testing.ts';

describe('custos ipfs', () => {
  let dir: string;
  let vault: string;
  let file: string;
  let kubo: KuboDaemon;

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'custos-ipfs-cli-'));
    vault = join(dir, 'vault');
    file = join(dir, 'data.bin');
    await writeFile(file, randomBytes(2 * 262_144 + 100));
    kubo = await KuboDaemon.start(kuboBinary());
  }, 60_000);
  afterAll(async () => {
    await kubo?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('add prints the kubo CID, verify and cat check it, push pins it on kubo', async () => {
    const add = bufferIo();
    expect(await main(['ipfs', 'add', file, '--vault', vault], add)).toBe(0);
    const cid = add.out().trim();
    expect(cid).toBe((await cidOfFile(file)).toString());

    const verify = bufferIo();
    expect(await main(['ipfs', 'verify', cid, '--vault', vault], verify)).toBe(0);
    expect(verify.out()).toContain('4 blocks');

    const out = join(dir, 'out.bin');
    expect(await main(['ipfs', 'cat', cid, '--out', out, '--vault', vault], bufferIo())).toBe(0);
    expect((await readFile(out)).equals(await readFile(file))).toBe(true);
    const again = bufferIo();
    expect(await main(['ipfs', 'cat', cid, '--out', out, '--vault', vault], again)).toBe(1);
    expect(again.err()).toContain('OutputExists');

    const push = bufferIo();
    expect(await main(['ipfs', 'push', cid, '--kubo', kubo.apiUrl, '--vault', vault], push)).toBe(
      0,
    );
    expect(push.out()).toContain(`pinned ${cid}`);
    expect((await kubo.cli(['pin', 'ls', '--type=recursive', cid])).toString()).toContain(cid);
  });

  it('add --nocopy gives the same CID and reads the bytes from FILE; with CIDv0 it is a usage error', async () => {
    const other = join(dir, 'vault-nocopy');
    const add = bufferIo();
    expect(await main(['ipfs', 'add', file, '--nocopy', '--vault', other], add)).toBe(0);
    const cid = add.out().trim();
    expect(cid).toBe((await cidOfFile(file)).toString());
    const verify = bufferIo();
    expect(await main(['ipfs', 'verify', cid, '--vault', other], verify)).toBe(0);
    expect(verify.out()).toContain('4 blocks');
    const v0 = bufferIo();
    expect(
      await main(['ipfs', 'add', file, '--nocopy', '--cid-version', '0', '--vault', other], v0),
    ).toBe(2);
    expect(v0.err()).toContain('--nocopy needs CIDv1');
  });

  it('push-cluster: an IPFS Cluster peer pins it on its kubo; bad --copies is a usage error', async () => {
    const peer = await ClusterPeer.start(kubo, { secret: ClusterPeer.secret() });
    try {
      await peer.waitForPeers(1);
      const other = join(dir, 'vault-cluster');
      const add = bufferIo();
      expect(await main(['ipfs', 'add', file, '--vault', other], add)).toBe(0);
      const cid = add.out().trim();
      const push = bufferIo();
      const args = ['ipfs', 'push-cluster', cid, '--cluster', peer.apiUrl, '--vault', other];
      expect(await main([...args, '--copies', '1'], push)).toBe(0);
      expect(push.out()).toContain(`pinned ${cid} on 1 cluster peers`);
      expect((await kubo.cli(['pin', 'ls', '--type=recursive', cid])).toString()).toContain(cid);
      const bad = bufferIo();
      expect(await main([...args, '--copies', 'two'], bad)).toBe(2);
      expect(bad.err()).toContain('--copies');
    } finally {
      await peer.stop();
    }
  });

  it('pin-remote: a Pinning Service (spec server on kubo) fetches from the vault node and pins', async () => {
    const server = await startPinningServer({
      kubo: new KuboRpcBackend({ apiUrl: kubo.apiUrl }),
      token: 'cli-token',
    });
    try {
      const other = join(dir, 'remote.bin');
      await writeFile(other, randomBytes(300_000));
      const add = bufferIo();
      expect(await main(['ipfs', 'add', other, '--vault', vault], add)).toBe(0);
      const cid = add.out().trim();
      const run = bufferIo({ CUSTOS_PINNING_TOKEN: 'cli-token' });
      expect(
        await main(['ipfs', 'pin-remote', cid, '--service', server.url, '--vault', vault], run),
      ).toBe(0);
      expect(run.out()).toContain(`pinned ${cid}`);
      expect(run.err().trim().split('\n').at(-1)).toBe('pinned');
      expect((await kubo.cli(['pin', 'ls', '--type=recursive', cid])).toString()).toContain(cid);

      const denied = bufferIo({ CUSTOS_PINNING_TOKEN: 'wrong' });
      expect(
        await main(['ipfs', 'pin-remote', cid, '--service', server.url, '--vault', vault], denied),
      ).toBe(1);
      expect(denied.err()).toMatch(/^custos: StorageUnauthorized: /m);
      expect(
        await main(
          ['ipfs', 'pin-remote', cid, '--service', server.url, '--vault', vault],
          bufferIo(),
        ),
      ).toBe(2);
    } finally {
      await server.close();
    }
  });

  it('push to an unreachable kubo exits 1 with StorageUnavailable', async () => {
    const add = bufferIo();
    expect(await main(['ipfs', 'add', file, '--vault', vault], add)).toBe(0);
    const run = bufferIo();
    const code = await main(
      ['ipfs', 'push', add.out().trim(), '--kubo', 'http://127.0.0.1:1', '--vault', vault],
      run,
    );
    expect(code).toBe(1);
    expect(run.err()).toMatch(/^custos: StorageUnavailable: /);
  });

  it('verify of a CID the vault does not hold exits 1 with BlockMissing', async () => {
    const run = bufferIo();
    const code = await main(
      [
        'ipfs',
        'verify',
        'bafkreie7q3iidccmpvszul7kudcvvuavuo7u6gzlbobczuk5nqze3ywo4y',
        '--vault',
        vault,
      ],
      run,
    );
    expect(code).toBe(1);
    expect(run.err()).toMatch(/^custos: BlockMissing: /);
  });

  it('usage errors exit 2: unknown action, bad CID, missing --vault', async () => {
    expect(await main(['ipfs', 'frobnicate', '--vault', vault], bufferIo())).toBe(2);
    expect(await main(['ipfs', 'verify', 'not-a-cid', '--vault', vault], bufferIo())).toBe(2);
    expect(await main(['ipfs', 'gc'], bufferIo())).toBe(2);
  });
});
