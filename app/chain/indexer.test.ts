import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet, hexlify, keccak256, randomBytes, toUtf8Bytes } from 'ethers';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CustosError } from '../errors/index.ts';
import { DEVNET_KEYS, startDevnet, type Devnet } from './devnet.ts';
import type { RegistryEvent } from './events.ts';
import {
  FileCursorStore,
  MemoryCursorStore,
  RegistryIndexer,
  type CursorStore,
} from './indexer.ts';
import { RegistryClient } from './registry.ts';

const h = (s: string): string => keccak256(toUtf8Bytes(s));
const CONFIRMATIONS = 3;

describe('RegistryIndexer on anvil', () => {
  let devnet: Devnet;
  let client: RegistryClient;
  let datasetId: string;

  const mine = async (blocks: number): Promise<void> => {
    await devnet.provider.send('anvil_mine', [`0x${blocks.toString(16)}`]);
  };
  const grant = async (maxRuns = 1n): Promise<string> => {
    const now = BigInt((await devnet.provider.getBlock('latest'))!.timestamp);
    const { grantId } = await client.grant({
      datasetId,
      grantee: '0x70997970C51812dc3A010C7d01b50e0d17dc79C8',
      measurements: [h('m')],
      notBefore: now,
      notAfter: now + 86_400n,
      maxRuns,
      purposeHash: h('p'),
      legalBasisHash: h('l'),
    });
    return grantId;
  };
  const indexer = (store: CursorStore = new MemoryCursorStore()): RegistryIndexer =>
    new RegistryIndexer({
      provider: devnet.provider,
      registry: devnet.registry,
      startBlock: devnet.startBlock,
      confirmations: CONFIRMATIONS,
      store,
      maxRange: 4,
    });
  const grantIds = (events: readonly RegistryEvent[]): string[] =>
    events.flatMap((e) => (e.name === 'GrantCreated' ? [e.args.grantId] : []));
  const grants = (events: readonly RegistryEvent[]): { tx: string; maxRuns: bigint }[] =>
    events.flatMap((e) =>
      e.name === 'GrantCreated' ? [{ tx: e.transactionHash, maxRuns: e.args.maxRuns }] : [],
    );

  beforeEach(async () => {
    devnet = await startDevnet();
    client = new RegistryClient({
      provider: devnet.provider,
      registry: devnet.registry,
      chainId: devnet.chainId,
      sender: new Wallet(DEVNET_KEYS.owner, devnet.provider),
      pollMs: 20,
    });
    ({ datasetId } = await client.registerDataset({
      containerId: hexlify(randomBytes(16)),
      cid: '0x0155',
      ciphertextHash: h('c'),
      metadataHash: h('m'),
    }));
  });

  afterEach(async () => {
    await devnet.stop();
  });

  it('delivers an event as final only after N confirmations, and only once', async () => {
    const ix = indexer();
    const g = await grant();
    const first = await ix.poll();
    expect(first.final.map((e) => e.name)).toEqual([]);
    expect(grantIds(first.pending)).toEqual([g]);

    await mine(CONFIRMATIONS - 1);
    const second = await ix.poll();
    expect(second.final.map((e) => e.name)).toEqual(['DatasetRegistered', 'GrantCreated']);
    expect(second.pending).toEqual([]);

    await mine(5);
    const third = await ix.poll();
    expect(third.final).toEqual([]);
  });

  it('a reorg that drops a pending grant never shows it as final', async () => {
    const ix = indexer();
    await mine(CONFIRMATIONS);
    const snapshot = (await devnet.provider.send('evm_snapshot', [])) as string;
    await grant(1n);
    const before = await ix.poll();
    const dropped = grants(before.pending);
    expect(dropped.map((g) => g.maxRuns)).toEqual([1n]);

    // the chain reorganises: the grant's block is replaced by others with another grant (which,
    // being the dataset's next grant too, gets the same grant id: ids are final only when blocks are)
    expect(await devnet.provider.send('evm_revert', [snapshot])).toBe(true);
    await mine(1);
    await grant(2n);
    await mine(CONFIRMATIONS + 2);

    const seenFinal: { tx: string; maxRuns: bigint }[] = [];
    const after = await ix.poll((batch) => {
      seenFinal.push(...grants(batch.final));
    });
    expect(after.pending).toEqual([]);
    expect(seenFinal.map((g) => g.maxRuns)).toEqual([2n]);
    expect(seenFinal.map((g) => g.tx)).not.toContain(dropped[0]?.tx);
  });

  it('a reorg below the finality line is reported as ReorgTooDeep, not followed', async () => {
    const ix = indexer();
    const snapshot = (await devnet.provider.send('evm_snapshot', [])) as string;
    await grant();
    await mine(CONFIRMATIONS);
    const batch = await ix.poll();
    expect(grantIds(batch.final)).toHaveLength(1);

    await devnet.provider.send('evm_revert', [snapshot]);
    // a different block at the same heights: a plain transfer, then empty blocks
    const relayer = new Wallet(DEVNET_KEYS.relayer, devnet.provider);
    await (await relayer.sendTransaction({ to: relayer.address, value: 1n })).wait();
    await mine(CONFIRMATIONS + 2);
    const error = await ix.poll().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CustosError);
    expect((error as CustosError).tag).toBe('ReorgTooDeep');
  });

  it('keeps its cursor in a file: a new indexer resumes without re-delivering', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'custos-indexer-'));
    try {
      const store = new FileCursorStore(join(dir, 'cursor.json'));
      await grant();
      await mine(CONFIRMATIONS);
      const first = await indexer(store).poll();
      expect(first.final.map((e) => e.name)).toEqual(['DatasetRegistered', 'GrantCreated']);

      const g2 = await grant();
      await mine(CONFIRMATIONS);
      const resumed = await indexer(store).poll();
      expect(grantIds(resumed.final)).toEqual([g2]);
      expect(resumed.final.map((e) => e.name)).toEqual(['GrantCreated']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('does not advance when the handler fails, so the batch is delivered again', async () => {
    const ix = indexer();
    await grant();
    await mine(CONFIRMATIONS);
    await expect(
      ix.poll(() => {
        throw new CustosError('DiskFull', 'audit store full');
      }),
    ).rejects.toMatchObject({ tag: 'DiskFull' });
    const again = await ix.poll();
    expect(again.final.map((e) => e.name)).toEqual(['DatasetRegistered', 'GrantCreated']);
  });

  it('follow() hands over new final events until aborted', async () => {
    const ix = indexer();
    const controller = new AbortController();
    let resolveFinal!: (events: readonly RegistryEvent[]) => void;
    const delivered = new Promise<readonly RegistryEvent[]>((resolve) => (resolveFinal = resolve));
    const following = ix.follow(
      (batch) => {
        if (batch.final.some((e) => e.name === 'GrantCreated')) resolveFinal(batch.final);
      },
      { signal: controller.signal, intervalMs: 20 },
    );
    const g = await grant();
    await mine(CONFIRMATIONS);
    expect(grantIds(await delivered)).toEqual([g]);
    controller.abort();
    await following;
  });
});
