// The real-network profile against a chain Custos did not start itself: anvil with the registry
// deployed, reached only through the profile file's RPC URL; the Ledger is the APDU emulator under
// the production LedgerSigner (the only replaced layer).
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handle, type ApiResult, type AppStatus, type Dataset } from '../app/api/index.ts';
import { DEVNET_KEYS, startDevnet, type Devnet } from '../app/chain/index.ts';
import { clearSignFields } from '../app/chain/clear-sign.ts';
import { CustosService } from '../app/service/index.ts';
import { LedgerEmulator, EmulatorTransport, type Prompt } from '../app/signer/emulator/index.ts';
import { DEVELOPMENT_MNEMONIC } from './devnet.ts';
import { readNetworkFile, rpcNetworkBackend, type NetworkFile } from './rpc-network.ts';

let dir: string;
let chain: Devnet;
const OPERATOR = new Wallet(DEVNET_KEYS.operator).address;
const MEASUREMENT = `0x${'ab'.repeat(32)}`;

function profile(over: Partial<NetworkFile> = {}): NetworkFile {
  return {
    format: 'custos-network/1',
    profile: 'testnet',
    name: 'Consortium test chain',
    rpcUrl: chain.rpcUrl,
    chainId: chain.chainId,
    registry: chain.registry,
    startBlock: chain.startBlock,
    confirmations: 1,
    operator: OPERATOR,
    derivationPath: "44'/60'/0'/0/0",
    enclaveApps: [{ name: 'cohort-stats', title: 'Cohort statistics', measurement: MEASUREMENT }],
    ...over,
  };
}

function value<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new Error(`${result.error.tag}: ${result.error.message}`);
  return result.value;
}

/** A service on `file` with an emulated Ledger whose user approves and records each prompt. */
function serviceOn(file: NetworkFile, name: string, prompts: Prompt[] = []) {
  const device = new LedgerEmulator({
    mnemonic: DEVELOPMENT_MNEMONIC,
    user: (p) => {
      prompts.push(p);
      return 'approve';
    },
  });
  const service = new CustosService({
    vaultDir: join(dir, name, 'vault'),
    kdf: 'interactive',
    network: rpcNetworkBackend({
      file,
      dir: join(dir, name),
      env: { CUSTOS_RELAYER_KEY: DEVNET_KEYS.relayer },
      openTransport: () => Promise.resolve(new EmulatorTransport(device)),
    }),
  });
  const call = <T>(method: string, input: unknown = {}) =>
    handle(service.handlers, method, input) as Promise<ApiResult<T>>;
  const network = (until: (s: AppStatus['network']) => boolean) =>
    new Promise<AppStatus['network']>((resolve) => {
      const check = (s: AppStatus) => {
        if (until(s.network)) {
          off();
          resolve(s.network);
        }
      };
      const off = service.onEvent((event, payload) => {
        if (event === 'status') check(payload as AppStatus);
      });
      void call<AppStatus>('getStatus').then((r) => r.ok && check(r.value));
    });
  return { service, call, network, device };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-rpc-network-'));
  chain = await startDevnet();
}, 60_000);

afterAll(async () => {
  await chain?.stop();
  await rm(dir, { recursive: true, force: true });
});

describe('a real-network profile (network.json)', () => {
  it('publishes, grants and revokes with every owner message signed on the Ledger and sent by the relayer', async () => {
    const prompts: Prompt[] = [];
    const { service, call, network } = serviceOn(profile(), 'steward', prompts);
    try {
      value(await call('createVault', { passphrase: 'correct horse battery staple' }));
      const connected = await network((n) => n.state !== 'connecting');
      expect(connected).toMatchObject({
        state: 'connected',
        profile: 'testnet',
        simulated: false,
        chainId: chain.chainId,
      });

      const owner = new Wallet(DEVNET_KEYS.owner).address;
      const ownerBalance = await chain.provider.getBalance(owner);
      const csv = join(dir, 'cohort.csv');
      await writeFile(csv, 'patient_id,age\nP-1,54\nP-2,61\n');
      const { jobId } = value(
        await call<{ jobId: string }>('startImport', {
          path: csv,
          name: 'Cohort',
          description: '',
        }),
      );
      let job = value(
        await call<{ state: string; datasetId: string | null }>('getImport', { jobId }),
      );
      while (job.state === 'running') {
        await new Promise((r) => setTimeout(r, 50));
        job = value(await call('getImport', { jobId }));
      }
      expect(job.state).toBe('done');
      const published = value(await call<Dataset>('publishDataset', { id: job.datasetId }));
      expect(published.storage.ipfsCid).toMatch(/^baf/);

      const [app] = value(await call<{ apps: { name: string }[] }>('listEnclaveApps')).apps;
      const now = Date.now();
      const grant = value(
        await call<{ grantId: string; state: string }>('createGrant', {
          datasetId: published.id,
          grantee: { address: Wallet.createRandom().address, name: 'Research lab' },
          apps: [app?.name],
          notBefore: new Date(now - 60_000).toISOString(),
          notAfter: new Date(now + 30 * 86_400_000).toISOString(),
          maxRuns: 2,
          purpose: 'Cardiology cohort statistics',
          legalBasis: 'GDPR Art. 9(2)(j)',
        }),
      );
      expect(grant.state).toBe('active');
      const revoked = value(
        await call<{ state: string }>('revokeGrant', { grantId: grant.grantId }),
      );
      expect(revoked.state).toBe('revoked');
      // The relayer paid for every transaction, not the owner's Ledger account.
      expect(await chain.provider.getBalance(owner)).toBe(ownerBalance);

      // Register, operator, grant, revoke: each shown on the device in clear, not as hashes.
      const signed = prompts.filter((p) => p.kind.startsWith('typed-data'));
      expect(signed.map((p) => p.kind)).toEqual(Array(4).fill('typed-data'));
    } finally {
      await service.close();
    }
  }, 120_000);

  it('a profile whose registry address holds no contract is refused as WrongChain, and the app stays usable', async () => {
    const { service, call, network } = serviceOn(profile({ registry: OPERATOR }), 'no-registry');
    try {
      value(await call('createVault', { passphrase: 'correct horse battery staple' }));
      const n = await network((s) => s.state !== 'connecting');
      expect(n.state).toBe('unreachable');
      expect(n.problem).toMatch(/no Custos registry/);
      expect((await call('listDatasets')).ok).toBe(true);
    } finally {
      await service.close();
    }
  }, 60_000);

  it('a wrong chain id and a dead RPC node are each explained', async () => {
    const wrong = serviceOn(profile({ chainId: chain.chainId + 1 }), 'wrong-chain');
    const dead = serviceOn(profile({ rpcUrl: 'http://127.0.0.1:9' }), 'dead-rpc');
    try {
      for (const s of [wrong, dead]) {
        value(await s.call('createVault', { passphrase: 'correct horse battery staple' }));
      }
      expect((await wrong.network((s) => s.state !== 'connecting')).problem).toMatch(/chain/);
      expect((await dead.network((s) => s.state !== 'connecting')).state).toBe('unreachable');
    } finally {
      await wrong.service.close();
      await dead.service.close();
    }
  }, 60_000);
});

describe('the network file', () => {
  it('names the bad field', async () => {
    const path = join(dir, 'bad-network.json');
    await writeFile(path, JSON.stringify({ ...profile(), registry: '0x1234' }));
    await expect(readNetworkFile(path)).rejects.toMatchObject({
      tag: 'UsageError',
      message: expect.stringMatching(/registry: an 0x-address/) as unknown,
    });
    await writeFile(path, '{not json');
    await expect(readNetworkFile(path)).rejects.toMatchObject({ tag: 'UsageError' });
    await expect(readNetworkFile(join(dir, 'absent.json'))).rejects.toMatchObject({
      tag: 'NotFound',
    });
    await writeFile(path, JSON.stringify(profile()));
    expect((await readNetworkFile(path)).registry).toBe(chain.registry);
  });
});

describe('what a Ledger shows for a Custos message (ERC-7730 descriptor)', () => {
  it('lists the descriptor labels in order, one line per measurement, dates in UTC, no nonce', () => {
    const grantee = '0x3c44cdddb6a900fa2b585dd299e03d12fa4293bc';
    const fields = clearSignFields('Grant', {
      datasetId: `0x${'11'.repeat(32)}`,
      grantee,
      measurements: [MEASUREMENT, `0x${'cd'.repeat(32)}`],
      notBefore: 1_796_000_000n,
      notAfter: 1_798_000_000n,
      maxRuns: 3n,
      purposeHash: `0x${'22'.repeat(32)}`,
      legalBasisHash: `0x${'33'.repeat(32)}`,
      nonce: 7n,
      deadline: 1_796_000_600n,
    });
    expect(fields.map((f) => f.label)).toEqual([
      'Review',
      'Dataset',
      'Grantee',
      'Enclave app',
      'Enclave app',
      'From',
      'Until',
      'Runs',
      'Purpose',
      'Legal basis',
      'Signature valid until',
    ]);
    expect(fields[0]?.value).toBe('Grant access to a dataset');
    expect(fields[2]?.value).toBe('0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC');
    expect(fields[5]?.value).toBe('2026-11-30 00:53:20 UTC');
    expect(fields[7]?.value).toBe('3');
    expect(fields.some((f) => f.value === '7')).toBe(false);
    expect(clearSignFields('NoSuchType', {})).toEqual([]);
  });
});
