import { appendFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CustosError } from '../errors/index.ts';
import { GENESIS, Journal, canonicalJson, readJournal, verifyChain } from './index.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'custos-journal-'));
});
afterAll(() => rm(dir, { recursive: true, force: true }));

async function tagOf(p: Promise<unknown>): Promise<string> {
  return p.then(
    () => 'no error',
    (e: unknown) => (e instanceof CustosError ? e.tag : String(e)),
  );
}

async function journalWith(name: string, n: number): Promise<string> {
  const path = join(dir, name);
  const j = await Journal.open(path);
  for (let i = 0; i < n; i += 1) await j.append({ decision: i % 2 ? 'refused' : 'released', i });
  await j.close();
  return path;
}

describe('hash-chained journal', () => {
  it('chains entries from genesis and survives reopening', async () => {
    const path = await journalWith('a.jsonl', 3);
    const j = await Journal.open(path);
    await j.append({ decision: 'released', i: 3 });
    await j.close();
    const entries = await readJournal(path);
    expect(entries.map((e) => e.seq)).toEqual([0, 1, 2, 3]);
    expect(entries[0]?.prev).toBe(GENESIS);
    expect(entries[2]?.hash).toBe(entries[3]?.prev);
  });

  it('concurrent appends are serialised into one chain', async () => {
    const path = join(dir, 'c.jsonl');
    const j = await Journal.open(path);
    await Promise.all(Array.from({ length: 50 }, (_, i) => j.append({ i })));
    await j.close();
    expect((await readJournal(path)).map((e) => e.seq)).toEqual(
      Array.from({ length: 50 }, (_, i) => i),
    );
  });

  it.each([
    [
      'an entry edited',
      (lines: string[]) =>
        lines.map((l, i) => (i === 1 ? l.replace('"refused"', '"released"') : l)),
    ],
    ['an entry removed', (lines: string[]) => lines.filter((_, i) => i !== 1)],
    [
      'two entries swapped',
      (lines: string[]) => [lines[0]!, lines[2]!, lines[1]!, ...lines.slice(3)],
    ],
    ['the first entry removed', (lines: string[]) => lines.slice(1)],
    [
      'an entry re-hashed after editing but not its successor',
      (lines: string[]) => {
        const e = JSON.parse(lines[1]!) as { record: { i: number } };
        e.record.i = 99;
        return lines.map((l, i) => (i === 1 ? JSON.stringify(e) : l));
      },
    ],
  ])('%s → JournalBroken', async (name, damage) => {
    const path = await journalWith(`${name}.jsonl`, 4);
    const lines = (await readFile(path, 'utf8')).trim().split('\n');
    await writeFile(path, `${damage(lines).join('\n')}\n`);
    expect(await tagOf(readJournal(path))).toBe('JournalBroken');
    expect(await tagOf(Journal.open(path))).toBe('JournalBroken');
  });

  it('a torn last line (crash mid-append) is cut off on open; acknowledged entries stay', async () => {
    const path = await journalWith('torn.jsonl', 2);
    await appendFile(path, '{"seq":2,"time":"2026-');
    const j = await Journal.open(path);
    await j.append({ after: 'crash' });
    await j.close();
    const entries = await readJournal(path);
    expect(entries.map((e) => e.seq)).toEqual([0, 1, 2]);
    expect(entries[2]?.record).toEqual({ after: 'crash' });
  });

  it('canonical JSON sorts keys at every level', () => {
    expect(canonicalJson({ b: 1, a: { d: [2, { z: 1, y: 2 }], c: null } })).toBe(
      '{"a":{"c":null,"d":[2,{"y":2,"z":1}]},"b":1}',
    );
  });

  it('an excerpt verifies against the hash before it', async () => {
    const entries = await readJournal(await journalWith('x.jsonl', 6));
    expect(() => verifyChain(entries.slice(2, 5), entries[1]?.hash)).not.toThrow();
    expect(() => verifyChain(entries.slice(2, 5), entries[0]?.hash)).toThrow(CustosError);
  });
});
