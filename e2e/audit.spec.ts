/**
 * The Audit screen's filters and runs-per-day chart on a known history, made on the devnet behind
 * the app: two datasets, two grantees, enclave runs on two days three days apart (the chain's clock
 * is moved with evm_setNextBlockTimestamp), and one key refused after a revocation.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Wallet } from 'ethers';
import type { AuditQuery } from '../app/api/contract.ts';
import { DEVNET_KEYS } from '../app/chain/index.ts';
import { sodium } from '../app/crypto/index.ts';
import { indexTimeline, queryAudit } from '../app/service/audit-query.ts';
import { syntheticAudit } from '../bench/synthetic-audit.ts';
import { runSimulatedEnclave } from '../enclave-bridge/simulator/index.ts';
import { startWebHost } from '../main/web/host.ts';
import { expect, ROOT, shot, test, type Custos, seriousViolations } from './fixtures.ts';

test.use({ devnet: true, timezoneId: 'UTC' });

const DAY = 86_400;

/** Resolves on the service's next event of that name. */
function nextEvent(custos: Custos, name: 'status' | 'importProgress'): Promise<void> {
  return new Promise((resolve) => {
    const off = custos.service.onEvent((event) => {
      if (event === name) {
        off();
        resolve();
      }
    });
  });
}

async function importCsv(custos: Custos, file: string, name: string): Promise<string> {
  const h = custos.service.handlers;
  const path = join(custos.dir, file);
  await writeFile(path, 'patient_id,sex,age\nP-1,F,54\nP-2,M,61\n');
  const { jobId } = await h.startImport({ path, name, description: 'Synthetic patients' });
  for (;;) {
    const waiting = nextEvent(custos, 'importProgress');
    const job = await h.getImport({ jobId });
    if (job.state !== 'running') {
      expect(job.state).toBe('done');
      return job.datasetId ?? '';
    }
    await waiting;
  }
}

/**
 * Day N (noon UTC, N = the day after the chain's clock): 2 runs of Cardiology (Cardiology Research
 * Lab). Day N+3: 1 run of Oncology (Oncology Lab), then Cardiology's grant is revoked and its next
 * run refused.
 */
/** A new vault on the devnet, once the network is connected. */
async function connectedVault(custos: Custos): Promise<void> {
  const h = custos.service.handlers;
  await h.createVault({ passphrase: 'granite orchid lantern seventy' });
  for (;;) {
    const waiting = nextEvent(custos, 'status');
    const s = await h.getStatus({});
    if (s.network.state === 'connected') return;
    expect(s.network.state).toBe('connecting');
    await waiting;
  }
}

async function knownHistory(custos: Custos): Promise<{ dayN: number }> {
  const h = custos.service.handlers;
  await connectedVault(custos);
  const cardiology = await importCsv(custos, 'cardiology.csv', 'Cardiology cohort 2024');
  const oncology = await importCsv(custos, 'oncology.csv', 'Oncology cohort 2025');
  const approve = custos.service.onEvent((event, payload) => {
    if (event === 'status' && 'device' in payload && payload.device.canAnswer)
      void h.answerEmulatedDevice({ answer: 'approve' });
  });
  try {
    await h.publishDataset({ id: cardiology });
    await h.publishDataset({ id: oncology });
    const env = custos.network?.sessions[0]?.env;
    if (!env) throw new Error('the devnet did not start');
    const provider = env.devnet.provider;
    const moveClockTo = async (seconds: number): Promise<void> => {
      await provider.send('evm_setNextBlockTimestamp', [seconds]);
      await provider.send('evm_mine', []);
    };
    const latest = (await provider.getBlock('latest'))?.timestamp ?? 0;
    const dayN = Math.floor(latest / DAY) + 1;
    await moveClockTo(dayN * DAY + 12 * 3600);

    const grant = (datasetId: string, address: string, name: string) =>
      h.createGrant({
        datasetId,
        grantee: { address, name },
        apps: ['cohort-stats'],
        notBefore: new Date(Date.now() - 60_000).toISOString(),
        notAfter: new Date(Date.now() + 60 * DAY * 1000).toISOString(),
        maxRuns: 5,
        purpose: 'Outcomes research',
        legalBasis: 'GDPR art. 9(2)(j)',
      });
    const a = await grant(
      cardiology,
      new Wallet(DEVNET_KEYS.relayer).address,
      'Cardiology Research Lab',
    );
    const b = await grant(oncology, Wallet.createRandom().address, 'Oncology Lab, Univ. of Lyon');
    const consumer = (await sodium()).boxKeypair();
    const run = (grantId: string) =>
      runSimulatedEnclave({
        app: 'cohort-stats',
        grantId,
        params: {},
        consumerPublicKey: consumer.publicKey,
        keyReleaseUrl: env.keyRelease.url,
        ipfs: env.descriptor.ipfs,
        simulationKey: env.simulationKey,
        relayer: env.relayer,
      });
    await run(a.grantId);
    await run(a.grantId);
    await moveClockTo((dayN + 3) * DAY + 12 * 3600);
    await run(b.grantId);
    await h.revokeGrant({ grantId: a.grantId });
    await expect(run(a.grantId)).rejects.toMatchObject({ tag: 'GrantRevoked' });
    return { dayN };
  } finally {
    approve();
  }
}

const isoDay = (day: number): string => new Date(day * DAY * 1000).toISOString().slice(0, 10);

test('audit filters narrow the table and the chart, survive a reload through the URL; the chart counts runs and refusals', async ({
  page,
  custos,
}) => {
  test.setTimeout(120_000);
  const { dayN } = await knownHistory(custos);
  await page.goto(custos.host.url);
  await expect(page.getByTestId('network-status')).toContainText('connected', { timeout: 30_000 });
  await page.getByRole('button', { name: 'Audit', exact: true }).click();

  const chart = page.getByTestId('runs-chart');
  const count = page.getByTestId('audit-count');
  const rows = page.getByTestId('audit-row');
  await expect(chart).toHaveAttribute('data-runs', '3');
  await expect(page.getByTestId('chart-summary')).toContainText('3 enclave runs');
  await expect(page.getByTestId('chart-summary')).toContainText('1 key refusal.');
  // Day N has 2 runs, day N+3 one run (and the refusal, at the block read after it).
  await page.getByText('Show as a table').click();
  const perDay = page.getByTestId('chart-row');
  await expect(perDay).toHaveCount(2);
  await expect(perDay.nth(0).locator('td').first()).toHaveText('2');
  await expect(perDay.nth(1).locator('td').first()).toHaveText('1');
  const everything = Number(((await count.textContent()) ?? '').split(' of ')[1]?.split(' ')[0]);
  expect(everything).toBeGreaterThan(10);
  await expect(count).toHaveText(`${everything} of ${everything} events`);
  await shot(page, '43-audit-chart');
  expect(await seriousViolations(page), 'audit with chart (light)').toEqual([]);

  // Grantee: only the Oncology Lab's grant, run, release and the run's close (through its run).
  await page.getByTestId('filter-grantee').selectOption('Oncology Lab, Univ. of Lyon');
  await expect(chart).toHaveAttribute('data-runs', '1');
  await expect(rows).toHaveCount(4);
  for (const row of await rows.all())
    await expect(row).toContainText('Oncology Lab, Univ. of Lyon');
  await expect(rows.filter({ hasText: 'Enclave run closed' })).toHaveCount(1);

  // Dataset: Cardiology has the two runs of day N (the grantee filter is cleared first).
  await page.getByTestId('filter-grantee').selectOption('');
  await page.getByTestId('filter-dataset').selectOption({ label: 'Cardiology cohort 2024' });
  await expect(chart).toHaveAttribute('data-runs', '2');
  await expect(page.getByTestId('chart-summary')).toContainText('1 key refusal.');
  for (const row of await rows.all()) await expect(row).toContainText('Cardiology cohort 2024');

  // Period: from day N+2 on, Cardiology shows no run, only the revocation and the refusal.
  await page.getByTestId('filter-from').fill(isoDay(dayN + 2));
  await expect(chart).toHaveAttribute('data-runs', '0');
  await expect(rows.filter({ hasText: 'Grant revoked' })).toHaveCount(1);
  await expect(rows.filter({ hasText: 'Key refused' })).toHaveCount(1);
  await expect(rows.filter({ hasText: 'Enclave run opened' })).toHaveCount(0);
  await page.getByTestId('filter-dataset').selectOption('');
  await page.getByTestId('filter-until').fill(isoDay(dayN + 3));
  await page.getByTestId('filter-kind').selectOption('run-opened');
  await expect(chart).toHaveAttribute('data-runs', '1');
  await expect(rows).toHaveCount(1);
  await expect(rows.first()).toContainText('Oncology Lab, Univ. of Lyon');

  // The view is in the address: opened again (the web host needs its token each time), it comes
  // back on the Audit screen with the same filters and the same rows.
  const shared = page.url();
  expect(shared).toContain('view=audit');
  expect(shared).toContain(`from=${isoDay(dayN + 2)}`);
  expect(shared).toContain('kind=run-opened');
  await page.goto('about:blank');
  await page.goto(`${shared}#token=${custos.host.token}`);
  await expect(page.getByTestId('audit')).toBeVisible();
  await expect(page.getByTestId('filter-from')).toHaveValue(isoDay(dayN + 2));
  await expect(page.getByTestId('filter-until')).toHaveValue(isoDay(dayN + 3));
  await expect(page.getByTestId('filter-kind')).toHaveValue('run-opened');
  await expect(rows).toHaveCount(1);
  await expect(chart).toHaveAttribute('data-runs', '1');
  await expect(page).not.toHaveURL(/token=/);

  // A day of the chart (its button in the table) narrows the period to that day.
  await page.getByTestId('filter-clear').click();
  // the cleared answer comes from the service: wait for it before choosing a day
  await expect(chart).toHaveAttribute('data-runs', '3');
  await page.getByText('Show as a table').click();
  await perDay.nth(0).getByRole('button').click();
  await expect(page.getByTestId('filter-from')).toHaveValue(isoDay(dayN));
  await expect(page.getByTestId('filter-until')).toHaveValue(isoDay(dayN));
  await expect(chart).toHaveAttribute('data-runs', '2');
  await expect(page.getByTestId('chart-summary')).toContainText('0 key refusals.');

  // A backwards period says what to do; clearing the filters shows everything again.
  await page.getByTestId('filter-from').fill(isoDay(dayN + 5));
  await expect(page.getByTestId('period-error')).toContainText('ends before it starts');
  await expect(count).toHaveText(`0 of ${everything} events`);
  await page.getByTestId('filter-clear').click();
  await expect(count).toHaveText(`${everything} of ${everything} events`);
  await expect(page).toHaveURL(/\?view=audit$/);

  await page.getByTestId('theme').selectOption('dark');
  await page.getByTestId('filter-grantee').selectOption('Cardiology Research Lab');
  await expect(chart).toHaveAttribute('data-runs', '2');
  await shot(page, '44-audit-filtered-dark');
  expect(await seriousViolations(page), 'audit with chart (dark)').toEqual([]);
});

test('a long audit comes a page at a time: scrolling down fetches the lines under the new position', async ({
  page,
  custos,
}) => {
  await connectedVault(custos);
  // 2,000 synthetic runs (≈4,000 lines, app/audit timelines of synthetic registry events) answered
  // by the service's own query code; what the page asked for is kept.
  const audit = syntheticAudit(2000, 30);
  const index = indexTimeline({ ...audit, journalRead: false }, 'synthetic');
  const asked: AuditQuery[] = [];
  const host = await startWebHost({
    handlers: {
      ...custos.service.handlers,
      queryAudit: (q) => {
        asked.push(q);
        return Promise.resolve(queryAudit(index, q));
      },
    },
    events: custos.service,
    rendererDir: join(ROOT, 'out', 'renderer'),
  });
  try {
    await page.goto(host.url);
    await expect(page.getByTestId('network-status')).toContainText('connected', {
      timeout: 30_000,
    });
    await page.getByRole('button', { name: 'Audit', exact: true }).click();
    const lines = audit.entries.length;
    const total = new Intl.NumberFormat('en-US').format(lines);
    await expect(page.getByTestId('audit-count')).toHaveText(`${total} of ${total} events`);
    const table = page.getByTestId('audit-table');
    await expect(table).toHaveAttribute('aria-rowcount', String(lines + 1));
    // The first answer is one page, not the timeline.
    expect(asked).toHaveLength(1);
    expect(asked[0]).toMatchObject({ offset: 0, limit: 200 });
    const rows = page.getByTestId('audit-row');
    await expect(rows.first()).toHaveAttribute('aria-rowindex', '2');

    // To the end of the table: the last lines (the oldest: the datasets' registrations) arrive.
    const body = page.locator('.vtable-body');
    await body.evaluate((el: { scrollTop: number; scrollHeight: number }) => {
      el.scrollTop = el.scrollHeight;
    });
    await expect(
      page.locator(`[data-testid="audit-row"][aria-rowindex="${lines + 1}"]`),
    ).toContainText('Dataset registered');
    await expect(page.getByTestId('audit-row-loading')).toHaveCount(0);
    const lastPage = Math.floor((lines - 1) / 200) * 200;
    expect(asked.map((q) => q.offset)).toContain(lastPage);
    expect(asked.every((q) => q.limit === 200)).toBe(true);
    // Later pages name the timeline of the first answer (the service keeps it while they come).
    expect(asked[0]?.version).toBeUndefined();
    expect(asked.slice(1).every((q) => q.version === 'synthetic')).toBe(true);

    // Halfway up: that page is asked for, and the rows drawn are its lines.
    const middle = Math.floor(lines / 2);
    await body.evaluate((el: { scrollTop: number }, row: number) => {
      el.scrollTop = row * 44;
    }, middle);
    await expect(
      page.locator(`[data-testid="audit-row"][aria-rowindex="${middle + 2}"]`),
    ).toBeVisible();
    expect(asked.map((q) => q.offset)).toContain(Math.floor(middle / 200) * 200);
    await shot(page, '45-audit-scrolled');
    expect(await seriousViolations(page), 'audit scrolled').toEqual([]);
  } finally {
    await host.close();
  }
});
