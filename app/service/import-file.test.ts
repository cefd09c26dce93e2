import { createHash } from 'node:crypto';
import { appendFileSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handle, type ApiResult, type ImportJob, type ImportPreview } from '../api/index.ts';
import { patientResources, syntheticPatients } from '../synthetic/index.ts';
import { checkSource, planSource, previewSource } from './import-file.ts';
import { CustosService } from './service.ts';

let dir: string;
const sha256 = (text: string): string => createHash('sha256').update(text).digest('hex');

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-import-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A FHIR bulk export: one NDJSON file per resource type, as a FHIR server's $export writes it. */
async function bulkExport(folder: string, patients: number): Promise<Map<string, string[]>> {
  const byType = new Map<string, string[]>();
  for (const p of syntheticPatients(patients, { seed: 11 })) {
    for (const r of patientResources(p)) {
      const type = String((r as { resourceType: string }).resourceType);
      byType.set(type, [...(byType.get(type) ?? []), JSON.stringify(r)]);
    }
  }
  await mkdir(folder, { recursive: true });
  for (const [type, lines] of byType) {
    await writeFile(join(folder, `${type}.ndjson`), `${lines.join('\n')}\n`);
  }
  return byType;
}

describe('a FHIR bulk-export folder', () => {
  it('previews and checks as one dataset: every resource counted by type, files in name order', async () => {
    const folder = join(dir, 'export');
    const byType = await bulkExport(folder, 60);
    // hidden files and subfolders are left out, and counted
    await writeFile(join(folder, '.DS_Store'), 'x');
    await mkdir(join(folder, 'logs'));

    const preview = await previewSource(folder);
    const expected = [...byType]
      .map(([name, lines]) => ({ name, count: lines.length }))
      .sort((a, b) => b.count - a.count || a.name.localeCompare(b.name));
    expect(preview).toMatchObject({
      format: 'fhir-ndjson',
      folder: { files: byType.size, ignored: 2 },
      recordCount: expected.reduce((n, t) => n + t.count, 0),
      resourceTypes: expected,
      truncated: false,
    });

    const plan = await planSource(folder);
    const checked = await checkSource(plan, () => undefined);
    const names = [...byType.keys()].sort();
    const bytes = names.map((t) => `${byType.get(t)!.join('\n')}\n`).join('');
    expect(checked.sha256).toBe(sha256(bytes));
    expect(checked.recordCount).toBe(preview.recordCount);
  });

  it('takes thousands of files in constant memory, adding the newline a file lacks', async () => {
    const folder = join(dir, 'many');
    await mkdir(folder);
    const n = 3000;
    for (let i = 0; i < n; i++) {
      const last = i % 2 === 0 ? '\n' : ''; // every other file lacks its final newline
      await writeFile(
        join(folder, `part-${String(i).padStart(5, '0')}.ndjson`),
        `{"resourceType":"Observation","id":"o${i}"}${last}`,
      );
    }
    const checked = await checkSource(await planSource(folder), () => undefined);
    expect(checked.recordCount).toBe(n);
    expect(checked.resourceTypes).toEqual([{ name: 'Observation', count: n }]);
    const expected = Array.from(
      { length: n },
      (_, i) => `{"resourceType":"Observation","id":"o${i}"}\n`,
    );
    expect(checked.sha256).toBe(sha256(expected.join('')));
  });
});

describe('a folder of CSV files', () => {
  it('keeps the header once and every row', async () => {
    const folder = join(dir, 'csv');
    await mkdir(folder);
    await writeFile(join(folder, 'a.csv'), 'patient_id,age\r\nP-1,54\r\n');
    await writeFile(join(folder, 'b.csv'), 'patient_id,age\nP-2,61\nP-3,47');
    const plan = await planSource(folder);
    const checked = await checkSource(plan, () => undefined);
    expect(checked).toMatchObject({
      format: 'csv',
      columns: ['patient_id', 'age'],
      recordCount: 3,
    });
    expect(checked.sha256).toBe(sha256('patient_id,age\nP-1,54\r\nP-2,61\nP-3,47\n'));
  });

  it('refuses files with another header, naming the file', async () => {
    const folder = join(dir, 'csv-mixed-header');
    await mkdir(folder);
    await writeFile(join(folder, 'a.csv'), 'patient_id,age\nP-1,54\n');
    await writeFile(join(folder, 'b.csv'), 'patient_id,sex\nP-2,F\n');
    await expect(checkSource(await planSource(folder), () => undefined)).rejects.toMatchObject({
      tag: 'UsageError',
      message: expect.stringContaining('b.csv has other columns than a.csv') as unknown,
    });
  });
});

describe('folders that are not one dataset', () => {
  it('refuses a mix of kinds, an empty folder, and a relative path — each explained', async () => {
    const mixed = join(dir, 'mixed');
    await mkdir(mixed);
    await writeFile(join(mixed, 'a.csv'), 'x\n1\n');
    await writeFile(join(mixed, 'b.ndjson'), '{"resourceType":"Patient"}\n');
    await expect(planSource(mixed)).rejects.toMatchObject({
      tag: 'UsageError',
      message: expect.stringContaining('all of one kind') as unknown,
    });
    const empty = join(dir, 'empty');
    await mkdir(empty);
    await expect(planSource(empty)).rejects.toMatchObject({
      tag: 'UsageError',
      message: expect.stringContaining('holds no files') as unknown,
    });
    await expect(planSource('relative/export')).rejects.toMatchObject({ tag: 'UsageError' });
    await expect(planSource(join(dir, 'absent'))).rejects.toMatchObject({ tag: 'NotFound' });
  });
});

describe('importing through the service', () => {
  const value = <T>(r: ApiResult<T>): T => {
    if (!r.ok) throw new Error(`${r.error.tag}: ${r.error.message}`);
    return r.value;
  };

  it('a FHIR export folder becomes one dataset with its resource types', async () => {
    const service = new CustosService({ vaultDir: join(dir, 'v1', 'vault'), kdf: 'interactive' });
    try {
      const call = <T>(m: string, input: unknown = {}) =>
        handle(service.handlers, m, input) as Promise<ApiResult<T>>;
      value(await call('createVault', { passphrase: 'correct horse battery staple' }));
      const folder = join(dir, 'export-2');
      await bulkExport(folder, 20);
      const preview = value(await call<ImportPreview>('previewImport', { path: folder }));
      const done = new Promise<ImportJob>((resolve) =>
        service.onEvent((event, payload) => {
          const job = payload as ImportJob;
          if (event === 'importProgress' && job.state !== 'running') resolve(job);
        }),
      );
      value(await call('startImport', { path: folder, name: 'Bulk export', description: '' }));
      expect((await done).state).toBe('done');
      const [dataset] = value(await call<{ datasets: unknown[] }>('listDatasets')).datasets;
      expect(dataset).toMatchObject({
        format: 'fhir-ndjson',
        sourceName: 'export-2',
        recordCount: preview.recordCount,
        resourceTypes: preview.resourceTypes,
      });
    } finally {
      await service.close();
    }
  });

  it('a source that changes between the checking and the encrypting pass is refused and rolled back', async () => {
    const service = new CustosService({ vaultDir: join(dir, 'v2', 'vault'), kdf: 'interactive' });
    try {
      const call = <T>(m: string, input: unknown = {}) =>
        handle(service.handlers, m, input) as Promise<ApiResult<T>>;
      value(await call('createVault', { passphrase: 'correct horse battery staple' }));
      const path = join(dir, 'growing.csv');
      await writeFile(path, 'patient_id,age\nP-1,54\n');
      const done = new Promise<ImportJob>((resolve) =>
        service.onEvent((event, payload) => {
          const job = payload as ImportJob;
          if (event !== 'importProgress') return;
          // the export is still being written when encryption starts
          if (job.stage === 'encrypting' && job.bytesDone === 0) appendFileSync(path, 'P-2,61\n');
          if (job.state !== 'running') resolve(job);
        }),
      );
      value(await call('startImport', { path, name: 'Growing', description: '' }));
      const job = await done;
      expect(job).toMatchObject({ state: 'failed', error: { tag: 'FileUnreadable' } });
      expect(job.error?.message).toMatch(/changed while it was being imported/);
      expect(value(await call<{ datasets: unknown[] }>('listDatasets')).datasets).toEqual([]);
      expect(await readdir(join(dir, 'v2', 'vault', 'datasets'))).toEqual([]);
    } finally {
      await service.close();
    }
  });
});
