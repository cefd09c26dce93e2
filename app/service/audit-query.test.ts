import { describe, expect, it } from 'vitest';
import { METHODS, type AuditEntry, type AuditQuery } from '../api/contract.ts';
import { handle, type ApiHandlers } from '../api/index.ts';
import { AuditTimelineCache, indexTimeline, queryAudit, type AuditIndex } from './audit-query.ts';

const CARDIO = '1'.padStart(32, '0');
const ONCO = '2'.padStart(32, '0');
const hash = (n: number): string => `0x${n.toString(16).padStart(64, '0')}`;

function entry(n: number, e: Partial<AuditEntry> & Pick<AuditEntry, 'kind' | 'time'>): AuditEntry {
  return {
    id: `${e.datasetId ?? CARDIO}:${n}`,
    datasetId: CARDIO,
    datasetName: 'Cardiology cohort 2024',
    source: 'chain',
    what: e.kind,
    who: null,
    grantId: null,
    granteeName: null,
    runId: null,
    appName: null,
    measurement: null,
    teeType: null,
    simulated: false,
    resultHash: null,
    txHash: hash(n),
    blockNumber: n,
    evidence: {
      blockHash: hash(n),
      logIndex: 0,
      journalSeq: null,
      journalHash: null,
      evidenceHash: null,
    },
    anomalies: [],
    ...e,
  };
}

const run = (n: number, time: string, runId: string, grantee: string, datasetId = CARDIO) =>
  entry(n, {
    kind: 'run-opened',
    time,
    runId,
    granteeName: grantee,
    datasetId,
    datasetName: datasetId === CARDIO ? 'Cardiology cohort 2024' : 'Oncology cohort 2025',
  });

/**
 * Newest first, as the service sorts it: Cardiology runs on 1 Dec (two, one never closed) and
 * 4 Dec 2026 late in the evening UTC (already 5 Dec in Paris), an Oncology run on 4 Dec, a refusal,
 * and a journal line without a time.
 */
function timeline(): AuditIndex {
  const entries = [
    entry(9, { kind: 'key-released', time: null, source: 'journal' }),
    entry(8, { kind: 'key-refused', time: '2026-12-04T23:30:00.000Z' }),
    entry(7, { kind: 'run-closed', time: '2026-12-04T23:20:30.000Z', runId: hash(103) }),
    run(6, '2026-12-04T23:20:00.000Z', hash(103), 'Cardiology Research Lab'),
    run(5, '2026-12-04T12:00:00.000Z', hash(201), 'Oncology Lab, Univ. of Lyon', ONCO),
    entry(4, { kind: 'run-closed', time: '2026-12-01T12:00:30.000Z', runId: hash(101) }),
    {
      ...run(3, '2026-12-01T12:00:20.000Z', hash(102), 'Cardiology Research Lab'),
      anomalies: ['run-not-closed'],
    },
    run(2, '2026-12-01T12:00:00.000Z', hash(101), 'Cardiology Research Lab'),
    entry(1, {
      kind: 'grant-created',
      time: '2026-11-30T09:00:00.000Z',
      granteeName: 'Cardiology Research Lab',
      grantId: hash(1),
    }),
  ];
  return indexTimeline(
    {
      entries,
      anomalies: [
        {
          kind: 'run-not-closed',
          message: 'run never closed',
          datasetName: 'Cardiology cohort 2024',
          entryIds: [`${CARDIO}:3`],
        },
      ],
      journalRead: true,
    },
    'test-1',
  );
}

/** A query as the contract parses it (its defaults filled in). */
const q = (input: Partial<AuditQuery> = {}): AuditQuery => METHODS.queryAudit.input.parse(input);
const ids = (page: { entries: readonly AuditEntry[] }): string[] =>
  page.entries.map((e) => e.id.split(':')[1] ?? '');

describe('queryAudit', () => {
  it('answers the first page newest first, the counts, the menus and the anomalies', () => {
    const page = queryAudit(timeline(), q({ limit: 3 }), new Date('2026-12-05T00:00:00Z'));
    expect(ids(page)).toEqual(['9', '8', '7']);
    expect(page).toMatchObject({
      offset: 0,
      total: 9,
      all: 9,
      journalRead: true,
      version: 'test-1',
    });
    expect(page.checkedAt).toBe('2026-12-05T00:00:00.000Z');
    expect(page.datasets).toEqual([
      { id: CARDIO, name: 'Cardiology cohort 2024' },
      { id: ONCO, name: 'Oncology cohort 2025' },
    ]);
    expect(page.grantees).toEqual(['Cardiology Research Lab', 'Oncology Lab, Univ. of Lyon']);
    expect(page.kinds).toEqual([
      'grant-created',
      'key-refused',
      'key-released',
      'run-closed',
      'run-opened',
    ]);
    expect(page.anomalies).toHaveLength(1);
    expect(METHODS.queryAudit.output.safeParse(page).success).toBe(true);
  });

  it('pages through the filtered lines; an offset at or past the end gives an empty page', () => {
    const index = timeline();
    const pages = [0, 4, 8].map((offset) => ids(queryAudit(index, q({ offset, limit: 4 }))));
    expect(pages).toEqual([['9', '8', '7', '6'], ['5', '4', '3', '2'], ['1']]);
    for (const offset of [9, 1000]) {
      const page = queryAudit(index, q({ offset, limit: 4 }));
      expect(page.entries).toEqual([]);
      expect(page.total).toBe(9);
    }
  });

  it('gives a closed run the grantee of the run it closes, and filters by it', () => {
    const page = queryAudit(timeline(), q({ grantee: 'Cardiology Research Lab' }));
    expect(ids(page)).toEqual(['7', '6', '4', '3', '2', '1']);
    expect(page.entries[0]).toMatchObject({
      kind: 'run-closed',
      granteeName: 'Cardiology Research Lab',
    });
  });

  it('narrows by dataset, kind and anomalies; the chart ignores only the kind', () => {
    const index = timeline();
    const onco = queryAudit(index, q({ dataset: ONCO }));
    expect(ids(onco)).toEqual(['5']);
    expect(onco.chart).toMatchObject({ runs: 1, refusals: 0 });
    const closed = queryAudit(index, q({ kind: 'run-closed' }));
    expect(ids(closed)).toEqual(['7', '4']);
    // Every run and the refusal are still in the chart when the table lists only closed runs.
    expect(closed.chart).toMatchObject({ runs: 4, refusals: 1 });
    const anomalies = queryAudit(index, q({ anomaliesOnly: true }));
    expect(ids(anomalies)).toEqual(['3']);
    const none = queryAudit(index, q({ grantee: 'Nobody' }));
    expect(none).toMatchObject({ entries: [], total: 0, all: 9 });
    expect(none.chart).toEqual({ days: 1, bins: [], runs: 0, refusals: 0 });
  });

  it('counts runs and refusals per day in the asked time zone', () => {
    const index = timeline();
    const day = (iso: string): number => Date.parse(`${iso}T00:00:00Z`) / 86_400_000;
    const utc = queryAudit(index, q()).chart;
    expect(utc.days).toBe(1);
    expect(utc.bins.filter((b) => b.runs + b.refusals > 0)).toEqual([
      { start: day('2026-12-01'), runs: 2, refusals: 0 },
      { start: day('2026-12-04'), runs: 2, refusals: 1 },
    ]);
    expect(utc.bins).toHaveLength(4);
    // 23:20 and 23:30 UTC on 4 Dec are 00:20 and 00:30 on 5 Dec in Paris (UTC+1 in winter).
    const paris = queryAudit(index, q({ timeZone: 'Europe/Paris' })).chart;
    expect(paris.bins.filter((b) => b.runs + b.refusals > 0)).toEqual([
      { start: day('2026-12-01'), runs: 2, refusals: 0 },
      { start: day('2026-12-04'), runs: 1, refusals: 0 },
      { start: day('2026-12-05'), runs: 1, refusals: 1 },
    ]);
  });

  it('takes both days of a period in the time zone, and drops lines without a time', () => {
    const index = timeline();
    const fourth = queryAudit(index, q({ from: '2026-12-04', until: '2026-12-04' }));
    expect(ids(fourth)).toEqual(['8', '7', '6', '5']);
    const paris = queryAudit(
      index,
      q({ from: '2026-12-04', until: '2026-12-04', timeZone: 'Europe/Paris' }),
    );
    expect(ids(paris)).toEqual(['5']);
    // An open end: from the 1st on, the untimed journal line is left out.
    expect(ids(queryAudit(index, q({ from: '2026-12-01' })))).toEqual([
      '8',
      '7',
      '6',
      '5',
      '4',
      '3',
      '2',
    ]);
    expect(ids(queryAudit(index, q({ until: '2026-11-30' })))).toEqual(['1']);
    // The chart spans the whole period asked, days without runs included.
    const week = queryAudit(index, q({ from: '2026-11-28', until: '2026-12-06' })).chart;
    expect(week.bins).toHaveLength(9);
  });

  it('draws a bar per week past 92 days and per 30 days past 92 weeks', () => {
    const index = timeline();
    expect(queryAudit(index, q({ from: '2026-06-01' })).chart.days).toBe(7);
    expect(queryAudit(index, q({ from: '2020-01-01' })).chart.days).toBe(30);
  });

  it('refuses a period that ends before it starts, a date that does not exist, an unknown zone', () => {
    const index = timeline();
    const refused = (input: Partial<AuditQuery>) => {
      try {
        queryAudit(index, q(input));
      } catch (error) {
        return error;
      }
      return null;
    };
    expect(refused({ from: '2026-12-04', until: '2026-12-01' })).toMatchObject({
      tag: 'UsageError',
      details: { field: 'until' },
    });
    expect(refused({ from: '2026-02-30' })).toMatchObject({
      tag: 'UsageError',
      details: { field: 'from' },
    });
    expect(refused({ timeZone: 'Mars/Olympus_Mons' })).toMatchObject({
      tag: 'UsageError',
      details: { field: 'timeZone' },
    });
  });
});

describe('the queryAudit contract', () => {
  const handlers = {
    queryAudit: (input: AuditQuery) => Promise.resolve(queryAudit(timeline(), input)),
  } as unknown as ApiHandlers;

  it.each([
    [{ limit: 501 }, 'limit'],
    [{ offset: -1 }, 'offset'],
    [{ dataset: 'cardiology' }, 'dataset'],
    [{ from: '4 Dec 2026' }, 'from'],
    [{ kind: 'RunOpened' }, 'kind'],
    [{ anomaliesOnly: 'yes' }, 'anomaliesOnly'],
    [{ datasetId: CARDIO }, 'datasetId'],
    [{ version: 'Not A Version!' }, 'version'],
  ])('refuses %j with a UsageError naming %s', async (input, field) => {
    const result = await handle(handlers, 'queryAudit', input);
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.error.tag).toBe('UsageError');
    expect(result.error.message).toContain(field);
  });

  it('answers a valid query through the contract', async () => {
    const result = await handle(handlers, 'queryAudit', { kind: 'run-opened', limit: 2 });
    expect(result).toMatchObject({ ok: true, value: { total: 4, offset: 0 } });
  });
});

describe('AuditTimelineCache', () => {
  const lines = { entries: [], anomalies: [], journalRead: false };

  it('builds once per key, also for queries that arrive during the build', async () => {
    const cache = new AuditTimelineCache();
    expect(cache.pinned('0123456789abcdef')).toBeUndefined();
    let builds = 0;
    const build = () => {
      builds += 1;
      return Promise.resolve(lines);
    };
    const [a, b] = await Promise.all([cache.get('block 1', build), cache.get('block 1', build)]);
    expect(a).toBe(b);
    expect(builds).toBe(1);
    const c = await cache.get('block 2', build);
    expect(builds).toBe(2);
    expect(c).not.toBe(a);
    expect(c.version).toMatch(/^[0-9a-f]{16}$/);
    expect(c.version).not.toBe(a.version);
    cache.clear();
    await cache.get('block 2', build);
    expect(builds).toBe(3);
  });

  it('gives the kept timeline to a later page that names its version, none other', async () => {
    const cache = new AuditTimelineCache();
    const first = await cache.get('block 1', () => Promise.resolve(lines));
    expect(await cache.pinned(first.version)).toBe(first);
    // A new block: the next first page rebuilds; a page of the old answer no longer finds it.
    const second = await cache.get('block 2', () => Promise.resolve(lines));
    expect(cache.pinned(first.version)).toBeUndefined();
    expect(await cache.pinned(second.version)).toBe(second);
  });

  it('does not keep a failed build', async () => {
    const cache = new AuditTimelineCache();
    const failed = cache.get('block 1', () => Promise.reject(new Error('RPC down')));
    await expect(failed).rejects.toThrow('RPC down');
    expect(cache.pinned('anything')).toBeUndefined();
    const index = await cache.get('block 1', () => Promise.resolve(lines));
    expect(index.entries).toEqual([]);
  });
});
