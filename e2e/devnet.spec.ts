/**
 * The devnet profile behind the app: anvil + registry, the vault's Helia node and the key-release
 * service start around the unlocked vault; the owner signs on the emulated Ledger (APDU level),
 * answered from the device prompt; the relayer sends.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { runSimulatedEnclave } from '../enclave-bridge/simulator/index.ts';
import { expect, shot, test } from './fixtures.ts';
import {
  autoApprove,
  grantedToLab,
  openDataset,
  publishedDataset,
  vaultWithDataset,
} from './devnet-helpers.ts';

test.use({ devnet: true });

test('devnet wiring, then publish and register signed on the emulated Ledger', async ({
  page,
  custos,
}) => {
  await vaultWithDataset(custos);
  await page.goto(custos.host.url);
  // The network starts around the unlocked vault; the device chip says what signs.
  await expect(page.getByTestId('device-status')).toContainText('Ledger (EMULATED)');
  await expect(page.getByTestId('network-status')).toContainText('connected (chain 31337)', {
    timeout: 30_000,
  });
  await expect(page.getByTestId('devnet-banner')).toContainText('Development network');
  await shot(page, '20-devnet-connected');

  await page.getByTestId('open-dataset').click();
  await expect(page.getByTestId('chain-chip')).toContainText('not registered');
  await page.getByTestId('publish-button').click();

  // 1. The device first shows the account it will sign with.
  const prompt = page.getByTestId('device-prompt');
  await expect(prompt).toBeVisible();
  await expect(page.getByTestId('device-fields')).toContainText('Address');
  await shot(page, '21-device-verify-address');
  await page.getByTestId('device-approve').click();

  // 2. The registration: the device lists the message's fields; the stages say where we are.
  await expect(page.getByTestId('device-fields')).toContainText('ciphertextHash', {
    ignoreCase: true,
  });
  await expect(page.getByTestId('publish-stages')).toContainText('Registering on the network');
  await expect(page.getByTestId('device-status')).toContainText('on the device');
  await shot(page, '22-device-confirm-register');
  await page.getByTestId('device-approve').click();

  // 3. Naming the key-release operator: signed too.
  await expect(page.getByTestId('device-fields')).toContainText('operator', {
    ignoreCase: true,
  });
  await page.getByTestId('device-approve').click();

  await expect(page.getByTestId('chain-chip')).toContainText('Network: registered');
  await expect(page.getByTestId('ipfs-chip')).toContainText('published and pinned');
  await expect(page.getByTestId('chain-ids')).toContainText('transaction');
  await expect(page.getByTestId('publish-button')).toHaveCount(0);
  await shot(page, '23-dataset-registered');
});

test('a rejection on the device is explained, and publishing can be retried', async ({
  page,
  custos,
}) => {
  await vaultWithDataset(custos);
  await openDataset(page, custos);
  await page.getByTestId('publish-button').click();
  await page.getByTestId('device-approve').click(); // the address
  await expect(page.getByTestId('device-fields')).toContainText('ciphertextHash', {
    ignoreCase: true,
  });
  await page.getByTestId('device-reject').click();
  const error = page.getByTestId('error');
  await expect(error).toHaveAttribute('data-tag', 'UserRejected');
  await expect(page.getByTestId('publish-stages')).toContainText('✕');
  await shot(page, '24-publish-rejected');

  // Retry: the CID is already pinned; the signatures are asked again.
  await page.getByTestId('publish-button').click();
  await page.getByTestId('device-approve').click();
  await expect(page.getByTestId('device-fields')).toContainText('operator', {
    ignoreCase: true,
  });
  await page.getByTestId('device-approve').click();
  await expect(page.getByTestId('chain-chip')).toContainText('Network: registered');
  await expect(page.getByTestId('error')).toHaveCount(0);
});

test('grant wizard → device confirmation → grants list; revoke one; revoke all by typing the name', async ({
  page,
  custos,
}) => {
  const datasetId = await publishedDataset(custos);
  await openDataset(page, custos);
  await page.getByRole('tab', { name: 'Grants' }).click();
  await expect(page.getByTestId('grants-empty')).toBeVisible();
  await page.getByTestId('new-grant').click();

  // Who: a new grantee with a local name.
  const lab = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
  await page.getByTestId('grantee-name').fill('Oncology Lab, Univ. of Lyon');
  await page.getByTestId('grantee-address').fill(lab);
  await page.getByTestId('wizard-next').click();
  // Which enclave app, by name and measurement.
  await expect(page.getByTestId('grant-wizard')).toContainText('Cohort statistics');
  await page.getByTestId('app-cohort-stats').check();
  await shot(page, '30-grant-app');
  await page.getByTestId('wizard-next').click();
  // When: an end before the start is refused on the spot.
  await page.getByTestId('grant-until').fill('2020-01-01T10:00');
  await expect(page.getByTestId('dates-error')).toContainText('ends before it starts');
  await expect(page.getByTestId('wizard-next')).toBeDisabled();
  await page.getByTestId('grant-until').fill('2027-03-31T10:00');
  await page.getByTestId('wizard-next').click();
  await page.getByTestId('grant-runs').fill('3');
  await page
    .getByTestId('grant-purpose')
    .fill('Cardiology outcomes research, protocol CARD-2026-04');
  await page.getByTestId('grant-legal').fill('GDPR art. 9(2)(j), ethics approval EC-2026-117');
  await page.getByTestId('wizard-next').click();
  const review = page.getByTestId('grant-review');
  await expect(review).toContainText('Oncology Lab, Univ. of Lyon');
  await expect(review).toContainText('Mar 31, 2027');
  await shot(page, '31-grant-review');
  await page.getByTestId('grant-sign').click();

  // The device lists the grant's fields: the grantee and the number of runs among them.
  // (The account was verified on the device when the dataset was published.)
  const fields = page.getByTestId('device-fields');
  await expect(fields).toContainText('maxRuns');
  await expect(fields).toContainText(lab);
  await shot(page, '32-grant-device');
  await page.getByTestId('device-approve').click();
  await expect(page.getByTestId('grant-done')).toContainText('Oncology Lab, Univ. of Lyon may run');
  await expect(page.getByTestId('grant-done')).toContainText('3 times');
  await shot(page, '33-grant-done');
  await page.getByTestId('grant-close').click();

  const row = page.getByTestId('grant-row');
  await expect(row).toHaveCount(1);
  await expect(row).toHaveAttribute('data-state', 'active');
  await expect(row).toContainText('0 of 3 used');
  await expect(row).toContainText('Active');

  // Revoke asks once, naming what stops.
  await row.getByTestId('revoke').click();
  await expect(page.getByTestId('revoke-confirm')).toContainText(
    'Oncology Lab, Univ. of Lyon will not be able to run Cohort statistics again (3 runs left)',
  );
  await shot(page, '34-revoke-confirm');
  await page.getByTestId('revoke-yes').click();
  await page.getByTestId('device-approve').click();
  await expect(row).toHaveAttribute('data-state', 'revoked');
  await expect(row).toContainText('Revoked');

  // A second grant (through the API), then revoke all: the dataset's name must be typed.
  const off = autoApprove(custos);
  await custos.service.handlers.createGrant({
    datasetId,
    grantee: { address: lab, name: 'Oncology Lab, Univ. of Lyon' },
    apps: ['cohort-stats'],
    notBefore: new Date().toISOString(),
    notAfter: new Date(Date.now() + 3 * 86400_000).toISOString(),
    maxRuns: 1,
    purpose: 'Follow-up',
    legalBasis: 'Consent',
  });
  off();
  await page.getByRole('button', { name: '← All datasets' }).click();
  await page.getByTestId('open-dataset').click();
  await page.getByRole('tab', { name: 'Grants' }).click();
  await expect(page.locator('[data-testid="grant-row"][data-state="expires-soon"]')).toContainText(
    'Expires within a week',
  );
  await page.getByTestId('revoke-all').click();
  await page.getByTestId('revoke-all-name').fill('Cardiology');
  await expect(page.getByTestId('revoke-all-yes')).toBeDisabled();
  await page.getByTestId('revoke-all-name').fill('Cardiology cohort 2024');
  await shot(page, '35-revoke-all-confirm');
  await page.getByTestId('revoke-all-yes').click();
  await page.getByTestId('device-approve').click();
  await expect(page.getByTestId('revoke-all-done')).toHaveText('1 grant revoked.');
  await expect(page.locator('[data-testid="grant-row"][data-state="revoked"]')).toHaveCount(2);
  await shot(page, '36-grants-revoked');
});

test('audit: a simulated enclave run appears with a SIMULATED badge and its evidence; after revoke a run is refused and shown', async ({
  page,
  custos,
}) => {
  const { grant, runOptions } = await grantedToLab(custos, 200);
  const run = await runSimulatedEnclave(runOptions);

  await page.goto(custos.host.url);
  await expect(page.getByTestId('network-status')).toContainText('connected', { timeout: 30_000 });
  await page.getByRole('button', { name: 'Audit', exact: true }).click();
  const table = page.getByTestId('audit-table');
  await expect(table).toContainText('Enclave run opened');
  await expect(table).toContainText('Key released to an enclave');
  await expect(table).toContainText('Cardiology Research Lab');
  await expect(table).toContainText('Cohort statistics');
  await expect(page.getByTestId('tee-simulated').first()).toHaveText('⚠ SIMULATED');
  await shot(page, '40-audit');

  // Filter by event kind; the side panel shows the closed run's evidence (its result hash).
  await page.getByTestId('filter-kind').selectOption('run-closed');
  await expect(page.getByTestId('audit-row')).toHaveCount(1);
  await page.getByTestId('audit-open').first().click();
  const evidence = page.getByTestId('evidence');
  await expect(evidence).toContainText('Enclave run closed');
  await expect(evidence).toContainText('Result hash');
  // The panel shows identifiers short; the full value is one hover (and one Copy) away.
  await expect(evidence.locator(`code[title="${run.resultHash}"]`)).toBeVisible();
  await shot(page, '41-audit-evidence');
  await page.getByTestId('filter-kind').selectOption('');
  await page.getByTestId('filter-anomalies').check();
  await expect(page.getByTestId('audit-count')).toContainText('0 of');
  await page.getByTestId('filter-anomalies').uncheck();

  // Revoke; a new run is refused, and the refusal is in the audit.
  const off2 = autoApprove(custos);
  await custos.service.handlers.revokeGrant({ grantId: grant.grantId });
  off2();
  await expect(runSimulatedEnclave(runOptions)).rejects.toMatchObject({ tag: 'GrantRevoked' });
  await page.getByRole('button', { name: 'Refresh' }).click();
  await expect(table).toContainText('Grant revoked');
  await page.getByTestId('theme').selectOption('dark');
  await shot(page, '42-audit-after-revoke-dark');
});

test('a new run on one of your datasets shows a notice (role=status) that leads to the audit', async ({
  page,
  custos,
}) => {
  const { runOptions } = await grantedToLab(custos, 50);
  await page.goto(custos.host.url);
  await expect(page.getByTestId('network-status')).toContainText('connected', { timeout: 30_000 });
  await expect(page.getByTestId('run-toast')).toHaveCount(0);

  await runSimulatedEnclave(runOptions);
  const toast = page.getByTestId('run-toast');
  await expect(toast).toHaveCount(1);
  await expect(toast).toContainText(
    'Cardiology Research Lab started a run with Cohort statistics on “Cardiology cohort 2024” (run 1).',
  );
  await expect(page.getByRole('status').filter({ has: toast })).toHaveAttribute(
    'aria-live',
    'polite',
  );
  await shot(page, '43-run-notification');
  await page.getByTestId('theme').selectOption('dark');
  await shot(page, '44-run-notification-dark');
  await page.getByTestId('run-toast-audit').click();
  await expect(page.getByTestId('audit-table')).toContainText('Enclave run opened');
  await expect(toast).toHaveCount(0);
});

test('“Grant access” after an import opens the dataset; the wizard opens once it is published', async ({
  page,
  custos,
}) => {
  await custos.service.handlers.createVault({ passphrase: 'granite orchid lantern seventy' });
  const path = join(custos.dir, 'cardiology.csv');
  await writeFile(path, 'patient_id,sex,age\nP-1,F,54\nP-2,M,61\n');
  await page.goto(custos.host.url);
  await page.getByTestId('import').click();
  await page.getByTestId('import-path').fill(path);
  await page.getByTestId('preview').click();
  await page.getByTestId('import-name').fill('Cardiology cohort 2024');
  await page.getByTestId('start-import').click();
  await page.getByTestId('import-grant').click();

  await expect(page.getByRole('tab', { name: 'Grants' })).toHaveAttribute('aria-selected', 'true');
  await expect(page.getByTestId('grant-after-publish')).toBeVisible();
  await expect(page.getByTestId('network-status')).toContainText('connected', { timeout: 30_000 });
  await page.getByTestId('publish-button').click();
  await page.getByTestId('device-approve').click(); // the address
  await expect(page.getByTestId('device-fields')).toContainText('Ciphertext hash');
  await page.getByTestId('device-approve').click();
  await expect(page.getByTestId('device-fields')).toContainText('Operator');
  await page.getByTestId('device-approve').click();
  await expect(page.getByTestId('grant-wizard')).toContainText(
    'Grant access to “Cardiology cohort 2024”',
  );
  await expect(page.getByTestId('grantee-name')).toBeVisible();
});

test('address book: grantees are listed by name; a rename shows in the grants list', async ({
  page,
  custos,
}) => {
  const datasetId = await publishedDataset(custos);
  const lab = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';
  const off = autoApprove(custos);
  await custos.service.handlers.createGrant({
    datasetId,
    grantee: { address: lab, name: 'Oncology Lab, Univ. of Lyon' },
    apps: ['cohort-stats'],
    notBefore: new Date().toISOString(),
    notAfter: new Date(Date.now() + 60 * 86400_000).toISOString(),
    maxRuns: 2,
    purpose: 'Research',
    legalBasis: 'Consent',
  });
  off();
  await page.goto(custos.host.url);
  await page.getByRole('button', { name: 'Address book', exact: true }).click();
  const row = page.getByTestId('contact-row');
  await expect(row).toHaveCount(1);
  await expect(row).toContainText('Oncology Lab, Univ. of Lyon');
  await row.getByRole('button', { name: 'Rename Oncology Lab, Univ. of Lyon' }).click();
  await expect(page.getByTestId('contact-name')).toBeFocused();
  await page.getByTestId('contact-name').fill('Oncology Lab (Lyon)');
  await page.getByTestId('contact-save').click();
  await expect(row).toContainText('Oncology Lab (Lyon)');
  await shot(page, '60-address-book');

  await expect(page.getByTestId('network-status')).toContainText('connected', { timeout: 30_000 });
  await page.getByRole('button', { name: 'Datasets', exact: true }).click();
  await page.getByTestId('open-dataset').click();
  await page.getByRole('tab', { name: 'Grants' }).click();
  await expect(page.getByTestId('grant-row')).toContainText('Oncology Lab (Lyon)');
});
