import { mkdtemp, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { handle, type ApiResult, type ImportJob } from '../api/index.ts';
import { decryptFile, sodium } from '../crypto/index.ts';
import { Vault } from '../vault/index.ts';
import { CustosService } from './service.ts';

const PASS = 'correct horse battery staple';
let dir: string;
let service: CustosService;

beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-service-'));
  service = new CustosService({ vaultDir: join(dir, 'vault'), kdf: 'interactive' });
});
afterEach(async () => {
  vi.useRealTimers();
  await service.close();
  await rm(dir, { recursive: true, force: true });
});

function value<T>(result: ApiResult<T>): T {
  if (!result.ok) throw new Error(`${result.error.tag}: ${result.error.message}`);
  return result.value;
}

async function call(method: string, input: unknown = {}): Promise<ApiResult<unknown>> {
  return handle(service.handlers, method, input);
}

function waitForJob(jobId: string, until: (job: ImportJob) => boolean): Promise<ImportJob> {
  return new Promise((resolve) => {
    const off = service.onEvent((event, payload) => {
      if (event !== 'importProgress') return;
      const job = payload as ImportJob;
      if (job.jobId === jobId && until(job)) {
        off();
        resolve(job);
      }
    });
  });
}

const CSV =
  'patient_id,name,birth_date\nP-001,Jean Dupont,1987-03-12\nP-002,"Marie, Claire",1990-11-02\n';

describe('vault lifecycle through the API', () => {
  it('creates, locks and unlocks; a wrong passphrase is WrongPassphrase with its sentence', async () => {
    expect((value(await call('getStatus')) as { vault: string }).vault).toBe('absent');
    const created = value(await call('createVault', { passphrase: PASS })) as {
      recoveryKey: string;
    };
    expect(created.recoveryKey).toMatch(/^([0-9A-Z]{5}-){10}[0-9A-Z]{5}$/);
    expect((value(await call('getStatus')) as { vault: string }).vault).toBe('unlocked');
    value(await call('lock'));
    expect((value(await call('getStatus')) as { vault: string }).vault).toBe('locked');

    const wrong = await call('unlock', { passphrase: 'not the passphrase' });
    expect(wrong.ok).toBe(false);
    if (!wrong.ok) {
      expect(wrong.error.tag).toBe('WrongPassphrase');
      expect(wrong.error.explanation).toMatch(/passphrase is not correct/);
    }
    expect((await call('listDatasets')).ok).toBe(false);
    value(await call('unlockWithRecoveryKey', { recoveryKey: created.recoveryKey }));
    expect((value(await call('getStatus')) as { vault: string }).vault).toBe('unlocked');
  });

  it('refuses unknown methods, prototype names and inputs that do not match the schema', async () => {
    for (const [method, input] of [
      ['deleteEverything', {}],
      ['__proto__', {}],
      ['constructor', {}],
      ['unlock', { passphrase: 42 }],
      ['createVault', { passphrase: PASS, extra: true }],
    ] as const) {
      const result = await call(method, input);
      expect(result.ok, method).toBe(false);
      if (!result.ok) expect(result.error.tag).toBe('UsageError');
    }
  });

  it('locks itself after the idle time', async () => {
    value(await call('createVault', { passphrase: PASS }));
    vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout'] });
    value(await call('touch'));
    const locked = new Promise<void>((resolve) =>
      service.onEvent((event, payload) => {
        if (event === 'status' && (payload as { vault: string }).vault === 'locked') resolve();
      }),
    );
    vi.advanceTimersByTime(10 * 60_000);
    await locked;
    expect((value(await call('getStatus')) as { vault: string }).vault).toBe('locked');
  });
});

describe('import', () => {
  beforeEach(async () => {
    value(await call('createVault', { passphrase: PASS }));
  });

  it('previews a CSV: columns, record count and masked samples only', async () => {
    const path = join(dir, 'cohort.csv');
    await writeFile(path, CSV);
    const preview = value(await call('previewImport', { path })) as {
      columns: string[];
      recordCount: number;
      redactedSamples: string[][];
    };
    expect(preview.columns).toEqual(['patient_id', 'name', 'birth_date']);
    expect(preview.recordCount).toBe(2);
    expect(preview.redactedSamples[0]).toEqual(['X-999', 'Xxxx Xxxxxx', '9999-99-99']);
    expect(JSON.stringify(preview)).not.toMatch(/Dupont|Marie|1987/);
  });

  it('says what is wrong with a path: relative, missing, a folder with nothing to import', async () => {
    const cases = [
      ['cohort.csv', 'UsageError'],
      [join(dir, 'missing.csv'), 'NotFound'],
      [dir, 'UsageError'], // holds only the vault's subfolder
    ] as const;
    for (const [path, tag] of cases) {
      const result = await call('previewImport', { path });
      expect(result.ok ? 'ok' : result.error.tag, path).toBe(tag);
    }
  });

  it('imports: encrypts into the vault, indexes the metadata, and the container decrypts back', async () => {
    const path = join(dir, 'cohort.csv');
    await writeFile(path, CSV);
    const { jobId } = value(
      await call('startImport', { path, name: 'Cardiology cohort 2024', description: 'Test' }),
    ) as { jobId: string };
    const finished = await waitForJob(jobId, (j) => j.state !== 'running');
    expect(finished.state).toBe('done');
    const { datasets } = value(await call('listDatasets')) as {
      datasets: { id: string; name: string; recordCount: number; sizeBytes: number }[];
    };
    expect(datasets).toHaveLength(1);
    expect(datasets[0]).toMatchObject({
      name: 'Cardiology cohort 2024',
      recordCount: 2,
      sizeBytes: CSV.length,
    });
    const id = datasets[0]!.id;
    expect(finished.datasetId).toBe(id);

    const vault = await Vault.open(join(dir, 'vault'), PASS);
    const out = join(dir, 'back.csv');
    await decryptFile(
      { sodium: await sodium(), keyFor: (dsid) => vault.datasetKey(dsid) },
      join(dir, 'vault', 'datasets', `${id}.custos`),
      out,
    );
    expect(await readFile(out, 'utf8')).toBe(CSV);
    expect((await stat(join(dir, 'vault', 'datasets.json'))).mode & 0o777).toBe(0o600);
    vault.lock();
  });

  it('cancel during encryption rolls back: no container, no key, no index entry', async () => {
    const path = join(dir, 'big.csv');
    await writeFile(path, `a,b\n${'1,2\n'.repeat(4 * 1024 * 1024)}`);
    const { jobId } = value(await call('startImport', { path, name: 'Big', description: '' })) as {
      jobId: string;
    };
    const cancelledJob = new Promise<ImportJob>((resolve) => {
      service.onEvent((event, payload) => {
        const job = payload as ImportJob;
        if (event !== 'importProgress' || job.jobId !== jobId) return;
        if (job.stage === 'encrypting' && job.state === 'running')
          void call('cancelImport', { jobId });
        if (job.state !== 'running') resolve(job);
      });
    });
    const job = await cancelledJob;
    expect(job.state).toBe('cancelled');
    expect(job.outcome).toMatch(/Rolled back/);
    expect(await readdir(join(dir, 'vault', 'datasets'))).toEqual([]);
    const vault = await Vault.open(join(dir, 'vault'), PASS);
    expect(vault.datasets()).toEqual([]);
    vault.lock();
    expect((value(await call('listDatasets')) as { datasets: unknown[] }).datasets).toEqual([]);
  });
});

describe('remember on this device', () => {
  it('remembers the passphrase only when asked, unlocks with it, and forgets it', async () => {
    let saved: string | null = null;
    const store = {
      available: () => true,
      load: () => Promise.resolve(saved),
      save: (p: string) => Promise.resolve(void (saved = p)),
      clear: () => Promise.resolve(void (saved = null)),
    };
    await service.close();
    service = new CustosService({
      vaultDir: join(dir, 'vault'),
      kdf: 'interactive',
      remember: store,
    });
    value(await call('createVault', { passphrase: PASS }));
    value(await call('lock'));
    expect(value(await call('getStatus'))).toMatchObject({
      remember: { available: true, enabled: false },
    });
    value(await call('unlock', { passphrase: PASS }));
    expect(saved).toBeNull();
    value(await call('lock'));
    value(await call('unlock', { passphrase: PASS, remember: true }));
    expect(saved).toBe(PASS);
    value(await call('lock'));
    value(await call('unlockRemembered'));
    expect(value(await call('getStatus'))).toMatchObject({
      vault: 'unlocked',
      remember: { enabled: true },
    });
    value(await call('forgetDevice'));
    value(await call('lock'));
    const again = await call('unlockRemembered');
    expect(again.ok ? 'ok' : again.error.tag).toBe('NotFound');
  });

  it('is not offered when the host has no keychain', async () => {
    expect(value(await call('getStatus'))).toMatchObject({ remember: { available: false } });
  });
});

describe('file picker', () => {
  it('is offered only when the host has one', async () => {
    value(await call('createVault', { passphrase: PASS }));
    expect(value(await call('getStatus'))).toMatchObject({ canChooseFiles: false });
    const refused = await call('chooseImportFile');
    expect(refused.ok ? 'ok' : refused.error.tag).toBe('UsageError');

    await service.close();
    const picks = ['/data/cohort.csv', null];
    service = new CustosService({
      vaultDir: join(dir, 'vault'),
      chooseFile: () => Promise.resolve(picks.shift() ?? null),
    });
    value(await call('unlock', { passphrase: PASS }));
    expect(value(await call('getStatus'))).toMatchObject({ canChooseFiles: true });
    expect(value(await call('chooseImportFile'))).toEqual({ path: '/data/cohort.csv' });
    expect(value(await call('chooseImportFile'))).toEqual({ path: null });
  });
});
