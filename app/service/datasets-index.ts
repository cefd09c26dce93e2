/**
 * The datasets index: what the steward knows about each dataset (name, description, size, records,
 * columns, storage — with the remote copies a publish confirmed — and chain state), in
 * `datasets.json` beside the keyring. Keys never live here — only in the keyring. Written
 * atomically, mode 0600.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';
import { Dataset } from '../api/index.ts';
import { CustosError, fromFsError } from '../errors/index.ts';
import { removeStaleTemps, writeFileAtomic } from '../files/index.ts';

export const INDEX_FILE = 'datasets.json';
const IndexFile = z.object({
  format: z.literal('custos-datasets'),
  version: z.literal(1),
  datasets: z.array(Dataset),
});

/** Reads the index of the vault in `dir`; a missing file is an empty index. Throws `KeyringCorrupt` when it does not parse. */
export async function readDatasetsIndex(dir: string): Promise<Dataset[]> {
  const path = join(dir, INDEX_FILE);
  await removeStaleTemps(path);
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
    throw fromFsError(error, path);
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (cause) {
    throw new CustosError('KeyringCorrupt', `${INDEX_FILE} is not valid JSON`, { cause });
  }
  const parsed = IndexFile.safeParse(json);
  if (!parsed.success)
    throw new CustosError('KeyringCorrupt', `${INDEX_FILE} does not match its format`);
  return parsed.data.datasets;
}

/** Replaces the index atomically. */
export async function writeDatasetsIndex(dir: string, datasets: readonly Dataset[]): Promise<void> {
  const body = { format: 'custos-datasets', version: 1, datasets };
  await writeFileAtomic(join(dir, INDEX_FILE), `${JSON.stringify(body, null, 2)}\n`);
}
