/**
 * The Compliance screen on the devnet behind the app: a published dataset, a grant and a run of
 * the simulated enclave; export the usage proof (bundle + PDF into the vault) → check the exported
 * bundle by choosing it → every check passes; drop a tampered copy → the failing check is named,
 * with what it means and what to do. Bad input: an end before the start, a file that is not a
 * bundle, the network going down (export explained, checking falls back to offline and says so).
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { crashListener } from '../app/service/kill-listener.ts';
import { runSimulatedEnclave } from '../enclave-bridge/simulator/index.ts';
import { grantedToLab } from './devnet-helpers.ts';
import { expect, shot, test, type Custos, seriousViolations } from './fixtures.ts';

test.use({ devnet: true });

/** A registered dataset with one grant and one run of the simulated enclave (through the API). */
async function datasetWithRun(custos: Custos): Promise<void> {
  await runSimulatedEnclave((await grantedToLab(custos, 200)).runOptions);
}

async function openCompliance(page: Page, custos: Custos): Promise<void> {
  await page.goto(custos.host.url);
  await expect(page.getByTestId('network-status')).toContainText('connected', { timeout: 30_000 });
  await page.getByRole('button', { name: 'Compliance', exact: true }).click();
  await expect(page.getByTestId('compliance')).toBeVisible();
}

/** Exports for all time through the UI; returns the folder and the seconds it took (click → result). */
async function exportAllTime(page: Page): Promise<{ folder: string; seconds: number }> {
  const started = Date.now();
  await page.getByTestId('export-button').click();
  await expect(page.getByTestId('export-result')).toBeVisible({ timeout: 30_000 });
  const seconds = (Date.now() - started) / 1000;
  return { folder: (await page.getByTestId('export-folder').textContent()) ?? '', seconds };
}

/** Drops a file on the drop zone the way a file manager does (a DataTransfer with one File). */
async function dropFile(page: Page, name: string, text: string): Promise<void> {
  // A string expression: the e2e code is typed without the DOM library.
  const dataTransfer = await page.evaluateHandle(
    `(() => { const dt = new DataTransfer(); dt.items.add(new File([${JSON.stringify(text)}], ${JSON.stringify(name)}, { type: 'application/json' })); return dt; })()`,
  );
  await page.getByTestId('drop-zone').dispatchEvent('drop', { dataTransfer });
}

test('export a usage proof, check it (all checks pass), drop a tampered copy (the failing check is named)', async ({
  page,
  custos,
}) => {
  await datasetWithRun(custos);
  await openCompliance(page, custos);
  await shot(page, '50-compliance');

  // An end before the start is refused on the spot.
  await page.getByTestId('proof-from').fill('2026-03-31');
  await page.getByTestId('proof-until').fill('2026-01-01');
  await expect(page.getByTestId('period-error')).toContainText('ends before it starts');
  await expect(page.getByTestId('export-button')).toBeDisabled();
  await shot(page, '51-compliance-period-error');
  await page.getByTestId('proof-from').fill('');
  await page.getByTestId('proof-until').fill('');

  const { folder, seconds } = await exportAllTime(page);
  console.log(`compliance e2e: export (click → result shown) ${seconds.toFixed(2)} s`);
  expect(folder).toContain(
    join(custos.dir, 'vault', 'exports', 'cardiology-cohort-2024_all-time_'),
  );
  expect((await readdir(folder)).sort()).toEqual(['usage-proof.json', 'usage-proof.pdf']);
  await expect(page.getByTestId('summary-runs')).toContainText('1');
  await expect(page.getByTestId('summary-grants')).toContainText('1');
  await expect(page.getByTestId('summary-refusals')).toContainText('0');
  await expect(page.getByTestId('export-simulated')).toContainText('SIMULATED');
  await shot(page, '52-compliance-exported');

  // The web host offers a download of what was written.
  const download = page.waitForEvent('download');
  await page.getByTestId('download-json').click();
  const saved = join(custos.dir, 'downloaded.json');
  await (await download).saveAs(saved);
  const json = await readFile(join(folder, 'usage-proof.json'), 'utf8');
  expect(await readFile(saved, 'utf8')).toBe(json);

  // Check the exported bundle by choosing it: every check passes, against the network.
  await page.getByTestId('verify-file').setInputFiles(join(folder, 'usage-proof.json'));
  const result = page.getByTestId('verify-result');
  await expect(result).toHaveAttribute('data-verdict', 'verified');
  await expect(page.getByTestId('check-block-anchor')).toHaveAttribute('data-status', 'passed');
  await expect(page.getByTestId('check-enclave-signature')).toHaveAttribute(
    'data-status',
    'passed',
  );
  await expect(page.locator('[data-testid^="check-"][data-status="failed"]')).toHaveCount(0);
  await expect(result).toContainText('against the running network');
  await expect(page.getByTestId('verify-scope')).toContainText('Cardiology cohort 2024');
  await shot(page, '53-compliance-verified');
  expect(await seriousViolations(page), 'export result and verified bundle').toEqual([]);

  // The PDF report alone is enough: its attached bundle is checked.
  await page.getByTestId('verify-file').setInputFiles(join(folder, 'usage-proof.pdf'));
  await expect(result).toContainText('attached to the PDF report');
  await expect(result).toHaveAttribute('data-verdict', 'verified');

  // A tampered copy (one hex digit of the run's result hash) dropped on the zone.
  const bundle = JSON.parse(json) as { runs: { resultHash: string | null }[] };
  const run = bundle.runs.find((r) => r.resultHash !== null);
  if (!run?.resultHash) throw new Error('the run did not close');
  run.resultHash = `${run.resultHash.slice(0, -1)}${run.resultHash.endsWith('0') ? '1' : '0'}`;
  await dropFile(page, 'usage-proof (tampered).json', JSON.stringify(bundle, null, 2));
  await expect(result).toHaveAttribute('data-verdict', 'failed');
  const failed = page.getByTestId('check-enclave-signature');
  await expect(failed).toHaveAttribute('data-status', 'failed');
  await expect(failed).toContainText('What it means');
  await expect(failed).toContainText('What to do');
  await expect(page.getByTestId('verify-headline')).toContainText(
    'every run’s result is signed by its enclave',
  );
  await expect(page.getByTestId('check-block-anchor')).toHaveAttribute('data-status', 'passed');
  await failed.getByText('What failed').click();
  await shot(page, '54-compliance-tampered');
  expect(await seriousViolations(page), 'tampered bundle').toEqual([]);

  // Not a bundle: a typed error that says so; the screen stays usable.
  await page.getByTestId('verify-file').setInputFiles({
    name: 'notes.txt',
    mimeType: 'text/plain',
    buffer: Buffer.from('minutes of the ethics committee'),
  });
  await expect(page.getByTestId('error')).toHaveAttribute('data-tag', 'BundleMalformed');
  await expect(page.getByTestId('error')).toContainText('not a valid usage-proof bundle');
  await expect(result).toHaveCount(0);

  // "Verify this proof now" checks what was just exported.
  await page.getByTestId('verify-now').click();
  await expect(result).toHaveAttribute('data-verdict', 'verified');
  await page.getByTestId('theme').selectOption('dark');
  await shot(page, '55-compliance-verified-dark');
  expect(await seriousViolations(page), 'dark theme').toEqual([]);
});

test('exported from the keyboard; then the network goes down: export is explained, checking falls back to offline and says so', async ({
  page,
  custos,
}) => {
  await datasetWithRun(custos);
  await openCompliance(page, custos);
  // From the keyboard alone: Tab from the dataset list reaches the export button, Enter exports.
  await page.getByTestId('proof-dataset').focus();
  let reached = false;
  for (let i = 0; i < 12 && !reached; i += 1) {
    await page.keyboard.press('Tab');
    reached =
      (await page.evaluate("document.activeElement?.getAttribute('data-testid') ?? ''")) ===
      'export-button';
  }
  expect(reached).toBe(true);
  await expect(page.getByTestId('export-button')).toHaveCSS('outline-style', 'solid');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('export-result')).toBeVisible({ timeout: 30_000 });
  const folder = (await page.getByTestId('export-folder').textContent()) ?? '';
  expect((await stat(join(folder, 'usage-proof.pdf'))).size).toBeGreaterThan(1000);

  // The devnet's anvil dies (SIGKILL, as a node does): the RPC is unreachable.
  await crashListener(custos.network?.sessions[0]?.env.devnet.rpcUrl ?? '');

  await page.getByTestId('export-button').click();
  await expect(page.getByTestId('error')).toHaveAttribute('data-tag', 'RpcUnavailable');
  await expect(page.getByTestId('error')).toContainText('cannot be reached');
  await expect(page.getByTestId('export-stages')).toContainText('✕');
  await shot(page, '56-compliance-network-down');

  await page.getByTestId('verify-file').setInputFiles(join(folder, 'usage-proof.json'));
  const result = page.getByTestId('verify-result');
  await expect(result).toHaveAttribute('data-verdict', 'unanchored');
  await expect(result).toContainText('could not be reached');
  await expect(page.getByTestId('check-block-anchor')).toHaveAttribute(
    'data-status',
    'not-checked',
  );
  await expect(page.getByTestId('check-receipt-proof')).toHaveAttribute('data-status', 'passed');
  await shot(page, '57-compliance-offline-check');
  // Still usable: another screen opens.
  await page.getByRole('button', { name: 'Datasets', exact: true }).click();
  await expect(page.getByTestId('dataset-row')).toHaveCount(1);
});

test.describe('without a network', () => {
  test.use({ devnet: false });

  test('before any dataset is registered, the screen says what to do; checking still works', async ({
    page,
    custos,
  }) => {
    await custos.service.handlers.createVault({ passphrase: 'granite orchid lantern seventy' });
    await page.goto(custos.host.url);
    await page.getByRole('button', { name: 'Compliance', exact: true }).click();
    await expect(page.getByTestId('export-empty')).toContainText('Publish and register');
    await expect(page.getByTestId('export-empty')).toContainText('not configured');
    await page.getByTestId('verify-file').setInputFiles({
      name: 'usage-proof.json',
      mimeType: 'application/json',
      buffer: Buffer.from('{"format": "custos-usage-proof", "version": 1}'),
    });
    // A bundle cut short: the structure check fails by name; the chain checks are not made.
    const result = page.getByTestId('verify-result');
    await expect(result).toHaveAttribute('data-verdict', 'failed');
    await expect(page.getByTestId('check-format')).toHaveAttribute('data-status', 'failed');
    await expect(page.getByTestId('check-block-anchor')).toHaveAttribute(
      'data-status',
      'not-checked',
    );
    await expect(result).toContainText('not connected to a network');
    await expect(page.getByTestId('verify-headline')).toContainText('none of its proofs');
    await expect(page.getByTestId('check-receipt-proof')).toHaveAttribute(
      'data-status',
      'not-checked',
    );
    await shot(page, '58-compliance-no-network');
  });
});
