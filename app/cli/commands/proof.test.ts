import { execFile } from 'node:child_process';
import { mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildScenario, type Scenario } from '../../audit/testing.ts';
import { main } from '../main.ts';
import { bufferIo } from '../testing.ts';

const BIN = join(import.meta.dirname, '../../../bin/custos.js');

describe('custos audit / custos proof against a devnet', () => {
  let s: Scenario;
  let dir: string;
  let chainArgs: string[];
  const cli = async (args: string[], env: Record<string, string> = {}) => {
    const io = bufferIo(env);
    const code = await main(args, io);
    return { code, out: io.out(), err: io.err() };
  };

  beforeAll(async () => {
    s = await buildScenario();
    dir = await mkdtemp(join(tmpdir(), 'custos-proof-cli-'));
    chainArgs = [
      '--rpc',
      s.devnet.rpcUrl,
      '--registry',
      s.devnet.registry,
      '--journal',
      s.journalPath,
    ];
  });
  afterAll(async () => {
    await s?.stop();
  });

  it('audit list prints the timeline and its anomalies; --json gives the same as one object', async () => {
    const human = await cli(['audit', 'list', '--dataset', s.datasetId, ...chainArgs]);
    expect(human.code).toBe(0);
    expect(human.out).toContain('run-opened');
    expect(human.out).toContain('[SIMULATED]');
    expect(human.out).toContain('! closed-after-revocation');
    const json = await cli(['audit', 'list', '--dataset', s.datasetId, '--json', ...chainArgs]);
    const timeline = JSON.parse(json.out) as { entries: unknown[]; anomalies: { kind: string }[] };
    expect(timeline.entries).toHaveLength(14);
    expect(timeline.anomalies.map((a) => a.kind)).toContain('release-without-run');
  });

  it('takes the chain from the environment too, and says what is missing', async () => {
    const env = { CUSTOS_RPC_URL: s.devnet.rpcUrl, CUSTOS_REGISTRY: s.devnet.registry };
    expect((await cli(['audit', 'list', '--dataset', s.datasetId, '--json'], env)).code).toBe(0);
    const missing = await cli(['audit', 'list', '--dataset', s.datasetId]);
    expect(missing.code).toBe(2);
    expect(missing.err).toContain('--rpc URL (or CUSTOS_RPC_URL) is required');
  });

  it('proof export writes the bundle and the PDF; verify --json passes offline and online', async () => {
    const out = join(dir, 'proof.json');
    const pdf = join(dir, 'proof.pdf');
    const exported = await cli([
      'proof',
      'export',
      '--dataset',
      s.datasetId,
      '--out',
      out,
      '--pdf',
      pdf,
      '--rpc',
      s.devnet.rpcUrl,
      '--registry',
      s.devnet.registry,
    ]);
    expect(exported.code).toBe(0);
    expect((await readFile(pdf)).subarray(0, 5).toString()).toBe('%PDF-');
    const bundle = JSON.parse(await readFile(out, 'utf8')) as {
      blocks: { number: number; hash: string }[];
    };
    const online = await cli(['proof', 'verify', out, '--rpc', s.devnet.rpcUrl, '--json']);
    expect(online.code).toBe(0);
    const report = JSON.parse(online.out) as { ok: boolean; events: number; failures: unknown[] };
    expect(report).toMatchObject({ ok: true, events: 10, failures: [] });
    const trusted = join(dir, 'trusted.json');
    await writeFile(
      trusted,
      JSON.stringify({
        chainId: 31337,
        blocks: Object.fromEntries(bundle.blocks.map((b) => [b.number, b.hash])),
      }),
    );
    // through the real binary, as a user runs it
    const { stdout } = await promisify(execFile)(process.execPath, [
      BIN,
      'proof',
      'verify',
      out,
      '--trusted-blocks',
      trusted,
      '--json',
    ]);
    expect(JSON.parse(stdout)).toMatchObject({ ok: true, anchor: 'trusted-blocks' });
    // the PDF report carries the bundle: verify takes it directly
    const fromPdf = await cli(['proof', 'verify', pdf, '--rpc', s.devnet.rpcUrl, '--json']);
    expect(fromPdf.code).toBe(0);
    expect(JSON.parse(fromPdf.out)).toMatchObject({ ok: true, events: 10 });
    // refuses to overwrite
    const again = await cli([
      'proof',
      'export',
      '--dataset',
      s.datasetId,
      '--out',
      out,
      ...chainArgs,
    ]);
    expect(again.code).toBe(1);
    expect(again.err).toContain('OutputExists');
  });

  it('verify exits 1 with the failing event and reason for a tampered bundle, and without an anchor', async () => {
    const out = join(dir, 'tamper.json');
    await cli(['proof', 'export', '--dataset', s.datasetId, '--out', out, ...chainArgs]);
    const bundle = JSON.parse(await readFile(out, 'utf8')) as {
      events: { args: Record<string, string> }[];
    };
    bundle.events[2]!.args['maxRuns'] = '500';
    const tampered = join(dir, 'tampered.json');
    await writeFile(tampered, JSON.stringify(bundle));
    const r = await cli(['proof', 'verify', tampered, '--rpc', s.devnet.rpcUrl, '--json']);
    expect(r.code).toBe(1);
    const report = JSON.parse(r.out) as {
      ok: boolean;
      failures: { check: string; event: { name: string } | null; reason: string }[];
    };
    expect(report.ok).toBe(false);
    expect(report.failures).toContainEqual(
      expect.objectContaining({
        check: 'log',
        event: expect.objectContaining({ name: 'GrantCreated' }) as unknown,
        reason: expect.stringContaining('maxRuns') as unknown,
      }),
    );
    const unanchored = await cli(['proof', 'verify', out, '--json']);
    expect(unanchored.code).toBe(1);
    expect(unanchored.out).toContain('block-anchor');
  });

  it('an unknown dataset and an empty period fail by name', async () => {
    const unknown = await cli([
      'proof',
      'export',
      '--dataset',
      `0x${'ab'.repeat(24)}${'0'.repeat(16)}`,
      '--out',
      join(dir, 'x.json'),
      ...chainArgs,
    ]);
    expect(unknown.code).toBe(1);
    expect(unknown.err).toMatch(/^custos: DatasetNotRegistered: /);
    const empty = await cli([
      'proof',
      'export',
      '--dataset',
      s.datasetId,
      '--from',
      '2001-01-01',
      '--to',
      '978393600',
      '--out',
      join(dir, 'y.json'),
      ...chainArgs,
    ]);
    expect(empty.code).toBe(1);
    expect(empty.err).toMatch(/^custos: NotFound: .*no events/);
    const bad = await cli(['proof', 'verify', join(dir, 'nope.json'), '--json']);
    expect(bad.code).toBe(1);
  });
});
