import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdir, open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, shot, test } from './fixtures.ts';

const PASSPHRASE = 'granite orchid lantern seventy';
const CSV = [
  'patient_id,name,birth_date,diagnosis',
  'P-0001,Jean Dupont,1987-03-12,I25.1',
  'P-0002,"Marie, Claire",1990-11-02,I48.0',
  'P-0003,Ahmed Benali,1975-06-30,I50.9',
  '',
].join('\n');

test('first run: create a vault, keep the recovery kit, import a CSV, see it in the list', async ({
  page,
  custos,
}) => {
  await page.goto(custos.host.url);
  await expect(page.getByTestId('welcome')).toBeVisible();
  // No network in this test: nothing is simulated, so no devnet banner (the devnet tests have it).
  await expect(page.getByTestId('devnet-banner')).toHaveCount(0);
  // The token left the address bar once read.
  expect(page.url()).not.toContain('token');

  await page.getByLabel('Passphrase', { exact: true }).fill('short');
  await expect(page.getByTestId('strength')).toHaveAttribute('data-score', '0');
  await expect(page.getByTestId('create-vault')).toBeDisabled();
  await page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
  await page.getByLabel('Type it again').fill(PASSPHRASE);
  await expect(page.getByTestId('strength')).not.toHaveAttribute('data-score', '0');
  await shot(page, '01-welcome');
  await page.getByTestId('create-vault').click();

  // Recovery kit: shown once; two groups typed back.
  const kit = page.getByTestId('recovery-kit');
  await expect(kit).toBeVisible();
  const groups = await page.getByTestId('recovery-key').locator('code').allTextContents();
  expect(groups).toHaveLength(11);
  await shot(page, '02-recovery-kit');
  const first = page.getByTestId('kit-group-1');
  const second = page.getByTestId('kit-group-2');
  const a = Number(await first.getAttribute('data-group'));
  const b = Number(await second.getAttribute('data-group'));
  await first.fill('WRONG');
  await second.fill(groups[b - 1] ?? '');
  await page.getByTestId('kit-confirm').click();
  await expect(kit.getByRole('alert')).toContainText('do not match');
  await first.fill((groups[a - 1] ?? '').toLowerCase());
  await page.getByTestId('kit-confirm').click();

  // Datasets: the empty state teaches the next step.
  await expect(page.getByTestId('datasets-empty')).toBeVisible();
  await expect(page.getByRole('navigation', { name: 'Main' })).toContainText('Address book');
  await shot(page, '03-datasets-empty');

  const csvPath = join(custos.dir, 'cardiology-cohort-2024.csv');
  await writeFile(csvPath, CSV);
  await page.getByTestId('import').click();
  await page.getByTestId('import-path').fill(csvPath);
  await page.getByTestId('preview').click();
  const preview = page.getByTestId('import-preview');
  await expect(preview).toBeVisible();
  await expect(page.getByTestId('preview-records')).toHaveText('3');
  await expect(preview).toContainText('diagnosis');
  await expect(preview).toContainText('Xxxx Xxxxxx');
  await expect(preview).not.toContainText('Dupont');
  await expect(page.getByTestId('import-name')).toHaveValue('Cardiology cohort 2024');
  await page.getByTestId('import-description').fill('Patients seen in 2024, pseudonymised export');
  await shot(page, '04-import-preview');
  await page.getByTestId('start-import').click();

  await expect(page.getByTestId('import-done')).toBeVisible();
  // "Grant access" is the next step: it opens the grant wizard (after publishing, when needed).
  await expect(page.getByTestId('import-grant')).toBeEnabled();
  await expect(page.getByTestId('import-done')).toContainText('then the grant wizard opens');
  await shot(page, '05-import-done');
  await page.getByTestId('to-datasets').click();

  const row = page.getByTestId('dataset-row');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('Cardiology cohort 2024');
  await expect(row).toContainText('Patients seen in 2024');
  await expect(row.locator('td').nth(1)).toHaveText('3');
  await expect(page.getByTestId('network-status')).toContainText('Network: not connected yet');
  await expect(page.getByTestId('devnet-banner')).toHaveCount(0);
  await shot(page, '06-datasets-list');

  // Dataset detail: people's words first, identifiers one click away, honest tabs.
  await row.getByTestId('open-dataset').click();
  const detail = page.getByTestId('dataset-detail');
  await expect(detail.getByRole('heading', { level: 1 })).toHaveText('Cardiology cohort 2024');
  await expect(detail.getByRole('tabpanel')).toContainText('diagnosis');
  await expect(detail.getByRole('tabpanel')).toContainText('cardiology-cohort-2024.csv');
  await shot(page, '06b-dataset-detail');
  await detail.getByRole('tab', { name: 'Details' }).focus();
  await page.keyboard.press('Home');
  await expect(detail.getByRole('tab', { name: 'Grants' })).toHaveAttribute(
    'aria-selected',
    'true',
  );
  await expect(detail.getByRole('tabpanel')).toContainText(
    'Publish and register the dataset first',
  );
  await detail.getByRole('button', { name: '← All datasets' }).click();
  await expect(row).toHaveCount(1);

  // The same screen in the dark theme, then a placeholder screen that says what is coming.
  await page.getByTestId('theme').selectOption('dark');
  await shot(page, '07-datasets-dark');
  await page.getByRole('button', { name: 'Audit' }).click();
  await expect(page.getByTestId('audit')).toContainText('the audit is read from it');
  await shot(page, '08-audit-no-network-dark');

  // The dataset is really in the vault: listed by the core.
  const listed = await custos.service.handlers.listDatasets({});
  expect(listed.datasets.map((d) => d.name)).toEqual(['Cardiology cohort 2024']);
});

test('a wrong passphrase shows the explained error and the app stays usable', async ({
  page,
  custos,
}) => {
  await custos.service.handlers.createVault({ passphrase: PASSPHRASE });
  await custos.service.lock();
  await page.goto(custos.host.url);
  await expect(page.getByTestId('unlock')).toBeVisible();
  await page.getByTestId('unlock-secret').fill('not my passphrase at all');
  await page.getByTestId('unlock-submit').click();
  const error = page.getByTestId('error');
  await expect(error).toHaveAttribute('data-tag', 'WrongPassphrase');
  await expect(error).toContainText(
    'That passphrase is not correct. Try again, or use your recovery kit.',
  );
  await shot(page, '09-unlock-wrong-passphrase');
  await page.getByTestId('unlock-secret').fill(PASSPHRASE);
  await page.getByTestId('unlock-submit').click();
  await expect(page.getByTestId('datasets-empty')).toBeVisible();

  // Locking from the top bar returns to the unlock screen.
  await page.getByTestId('lock').click();
  await expect(page.getByTestId('unlock')).toBeVisible();
});

test('an unreadable path is explained, not a dead end', async ({ page, custos }) => {
  await custos.service.handlers.createVault({ passphrase: PASSPHRASE });
  await page.goto(custos.host.url);
  await page.getByTestId('import').click();
  await page.getByTestId('import-path').fill(join(custos.dir, 'missing.csv'));
  await page.getByTestId('preview').click();
  await expect(page.getByTestId('error')).toHaveAttribute('data-tag', 'NotFound');
  // A folder is imported as one dataset now: one with nothing importable is a usage error…
  await page.getByTestId('import-path').fill(custos.dir);
  await page.getByTestId('preview').click();
  await expect(page.getByTestId('error')).toHaveAttribute('data-tag', 'UsageError');
  // …and something that is neither a file nor a folder cannot be read.
  await page.getByTestId('import-path').fill('/dev/null');
  await page.getByTestId('preview').click();
  await expect(page.getByTestId('error')).toHaveAttribute('data-tag', 'FileUnreadable');
  await expect(page.getByTestId('error')).toContainText('Custos cannot read that file');
  await shot(page, '10-import-unreadable');
});

test('a FHIR bulk-export folder is previewed by resource type and imported as one dataset', async ({
  page,
  custos,
}) => {
  await custos.service.handlers.createVault({ passphrase: PASSPHRASE });
  const folder = join(custos.dir, 'fhir-export');
  await mkdir(join(folder, 'logs'), { recursive: true });
  const patient = (i: number) => JSON.stringify({ resourceType: 'Patient', id: `p${i}` });
  const observation = (i: number) =>
    JSON.stringify({
      resourceType: 'Observation',
      id: `o${i}`,
      subject: { reference: `Patient/p${i}` },
    });
  await writeFile(join(folder, 'Patient.ndjson'), [0, 1, 2].map(patient).join('\n') + '\n');
  await writeFile(join(folder, 'Observation.ndjson'), [0, 1, 2, 3, 4].map(observation).join('\n'));

  await page.goto(custos.host.url);
  await page.getByTestId('import').click();
  await page.getByTestId('import-path').fill(folder);
  await page.getByTestId('preview').click();
  const preview = page.getByTestId('import-preview');
  await expect(preview).toContainText('Folder');
  await expect(preview).toContainText('FHIR resources (NDJSON)');
  await expect(page.getByTestId('preview-files')).toHaveText(
    '2 (1 left out: hidden files, subfolders)',
  );
  await expect(page.getByTestId('preview-records')).toHaveText('8');
  const types = page.getByTestId('preview-resource-types');
  await expect(types.getByRole('row', { name: 'Observation 5' })).toBeVisible();
  await expect(types.getByRole('row', { name: 'Patient 3' })).toBeVisible();
  await shot(page, '14-import-fhir-folder');
  await page.getByTestId('start-import').click();
  await expect(page.getByTestId('import-progress')).toHaveAttribute('data-state', 'done');
  const [dataset] = (await custos.service.handlers.listDatasets({})).datasets;
  expect(dataset).toMatchObject({
    format: 'fhir-ndjson',
    recordCount: 8,
    resourceTypes: [
      { name: 'Observation', count: 5 },
      { name: 'Patient', count: 3 },
    ],
  });
});

test('the capability token and Origin checks refuse a foreign page', async ({ page, custos }) => {
  // Without the token, or with a wrong one, the page says what to do and reaches nothing.
  await page.goto(custos.host.origin);
  await expect(page.getByTestId('fatal')).toContainText('without its access token');
  await page.goto('about:blank');
  await page.goto(`${custos.host.origin}/#token=${'x'.repeat(43)}`);
  await expect(page.getByTestId('fatal')).toContainText('refused this page');
  await shot(page, '11-refused-token');

  // A page from another origin — even one that knows the token — cannot open the API socket.
  const foreign = createServer((_req, res) => {
    res
      .writeHead(200, { 'Content-Type': 'text/html' })
      .end('<!doctype html><title>elsewhere</title>');
  });
  await new Promise<void>((r) => foreign.listen(0, '127.0.0.1', r));
  try {
    const { port } = foreign.address() as AddressInfo;
    await page.goto(`http://127.0.0.1:${port}/`);
    const api = `${custos.host.origin.replace('http', 'ws')}/api?token=${custos.host.token}`;
    const outcome = await page.evaluate(
      (url) =>
        new Promise<string>((resolve) => {
          const ws = new WebSocket(url);
          ws.onopen = () => resolve('open');
          ws.onerror = () => resolve('refused');
        }),
      api,
    );
    expect(outcome).toBe('refused');
  } finally {
    foreign.close();
  }
  // The same socket from the real page opens: the refusal above is the Origin check.
  await page.goto(custos.host.url);
  await expect(page.getByTestId('welcome')).toBeVisible();
});

test('a long import shows stages, bytes and rate, and cancel rolls back', async ({
  page,
  custos,
}) => {
  await custos.service.handlers.createVault({ passphrase: PASSPHRASE });
  // A sparse 2 GiB file: instant to create, long enough to read that the cancel lands mid-way.
  const big = join(custos.dir, 'imaging-export.bin');
  const handle = await open(big, 'w');
  await handle.truncate(2 * 1024 ** 3);
  await handle.close();

  await page.goto(custos.host.url);
  await page.getByTestId('import').click();
  await page.getByTestId('import-path').fill(big);
  await page.getByTestId('preview').click();
  await expect(page.getByTestId('preview-records')).toHaveText('not a table');
  await page.getByTestId('start-import').click();
  const progress = page.getByTestId('import-progress');
  await expect(progress.locator('.progress-text')).toContainText(/of 2\.1 GB · .*\/s/);
  await shot(page, '12-import-progress');
  await page.getByTestId('cancel-import').click();

  await expect(progress).toHaveAttribute('data-state', 'cancelled');
  await expect(page.getByRole('heading', { level: 1 })).toHaveText(
    'Import of “Imaging export” cancelled',
  );
  await expect(progress.locator('.stage-stopped')).toHaveCount(1);
  await expect(page.getByTestId('import-outcome')).toHaveText(
    /^(Nothing was stored|Rolled back: the partial encrypted copy and its key were removed)\. Your original file is untouched\.$/,
  );
  await shot(page, '13-import-cancelled');
  expect((await custos.service.handlers.listDatasets({})).datasets).toEqual([]);
  await page.getByRole('button', { name: 'Back to datasets' }).click();
  await expect(page.getByTestId('datasets-empty')).toBeVisible();
});

test('when Custos stops, the window says so instead of failing silently', async ({
  page,
  custos,
}) => {
  await page.goto(custos.host.url);
  await expect(page.getByTestId('welcome')).toBeVisible();
  await custos.host.close();
  await expect(page.getByTestId('fatal')).toContainText('The connection to Custos was lost');
});
