import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { handle, type ApiResult, type AppStatus, type Settings } from '../api/index.ts';
import { startDevnet } from '../chain/index.ts';
import type { CustosError } from '../errors/index.ts';
import { saveContact } from './grants.ts';
import { crashListener } from './kill-listener.ts';
import { watchRegistry } from './run-watch.ts';
import { CustosService } from './service.ts';

const PASS = 'correct horse battery staple';
let dir: string;
let service: CustosService;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-settings-'));
  service = new CustosService({ vaultDir: join(dir, 'vault'), kdf: 'interactive' });
});
afterEach(async () => {
  await service.close();
  await rm(dir, { recursive: true, force: true });
});

const call = (method: string, input: unknown = {}): Promise<ApiResult<unknown>> =>
  handle(service.handlers, method, input);

function value<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new Error(`${result.error.tag}: ${result.error.message}`);
  return result.value;
}

function nextStatus(service: CustosService, until: (s: AppStatus) => boolean): Promise<AppStatus> {
  return new Promise((resolve) => {
    const off = service.onEvent((event, payload) => {
      if (event === 'status' && until(payload as AppStatus)) {
        off();
        resolve(payload as AppStatus);
      }
    });
  });
}

describe('settings', () => {
  it('needs an unlocked vault, and without a network says what is not running', async () => {
    value(await call('createVault', { passphrase: PASS }));
    value(await call('lock'));
    const locked = await call('getSettings');
    expect(locked.ok).toBe(false);
    if (!locked.ok) expect(locked.error.tag).toBe('VaultLocked');

    value(await call('unlock', { passphrase: PASS }));
    const s = value(await call('getSettings')) as Settings;
    expect(s.network.state).toBe('not-configured');
    expect(s.network.registry).toBeNull();
    expect(s.storage.backends).toEqual([
      expect.objectContaining({ kind: 'embedded', health: 'not-running' }),
    ]);
    expect(s.signer.kind).toBe('none');
    // Without a network profile nothing simulated is trusted.
    expect(s.trust.acceptsSimulated).toBe(false);
    expect(s.trust.allowedTcbStatuses).toEqual(['UpToDate']);
    expect(s.autoLockMinutes).toBe(10);
  });

  it('auto-lock: out-of-range minutes are refused at the boundary; a choice is kept in the vault folder', async () => {
    value(await call('createVault', { passphrase: PASS }));
    for (const minutes of [0, 1441, 2.5, '5']) {
      const refused = await call('setAutoLock', { minutes });
      expect(refused.ok, String(minutes)).toBe(false);
      if (!refused.ok) expect(refused.error.tag).toBe('UsageError');
    }
    const announced = nextStatus(service, (s) => s.autoLockMinutes === 25);
    value(await call('setAutoLock', { minutes: 25 }));
    await announced;
    expect((value(await call('getSettings')) as Settings).autoLockMinutes).toBe(25);

    // Another app instance on the same vault folder: the choice holds once unlocked.
    await service.close();
    service = new CustosService({ vaultDir: join(dir, 'vault'), kdf: 'interactive' });
    expect((value(await call('getStatus')) as AppStatus).autoLockMinutes).toBe(10);
    const loaded = nextStatus(service, (s) => s.autoLockMinutes === 25);
    value(await call('unlock', { passphrase: PASS }));
    expect((await loaded).vault).toBe('unlocked');
  });

  it('renames an address-book entry; an unknown address is NotFound', async () => {
    value(await call('createVault', { passphrase: PASS }));
    const lab = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
    await saveContact(join(dir, 'vault'), { address: lab, name: 'Lyon lab' });
    const unknown = await call('renameContact', {
      address: '0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC',
      name: 'Someone',
    });
    expect(unknown.ok).toBe(false);
    if (!unknown.ok) expect(unknown.error.tag).toBe('NotFound');
    const blank = await call('renameContact', { address: lab, name: '   ' });
    expect(blank.ok).toBe(false);

    value(await call('renameContact', { address: lab.toLowerCase(), name: 'Oncology Lab, Lyon' }));
    expect(value(await call('listContacts'))).toEqual({
      contacts: [{ address: lab, name: 'Oncology Lab, Lyon' }],
    });
  });
});

describe('registry watch', () => {
  it('reports the node healthy, then RpcUnavailable once anvil dies', async () => {
    const devnet = await startDevnet();
    const problems: (CustosError | null)[] = [];
    let seen: () => void = () => undefined;
    const stop = watchRegistry({
      provider: devnet.provider,
      registry: devnet.registry,
      intervalMs: 100,
      onHealth: (p) => {
        problems.push(p);
        seen();
      },
      onRunOpened: () => undefined,
    });
    const until = (check: () => boolean): Promise<void> =>
      new Promise((resolve) => {
        seen = () => {
          if (check()) resolve();
        };
        seen();
      });
    try {
      await until(() => problems.length > 0);
      expect(problems[0]).toBeNull();
      await crashListener(devnet.rpcUrl); // the node dies; the app's provider stays as it was
      await until(() => problems.at(-1) !== null && problems.at(-1) !== undefined);
      expect(problems.at(-1)?.tag).toBe('RpcUnavailable');
    } finally {
      stop();
      await devnet.stop();
    }
  });
});
