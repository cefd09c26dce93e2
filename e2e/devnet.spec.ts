/**
 * The devnet profile behind the app: anvil + registry, the vault's Helia node and the key-release
 * service start around the unlocked vault; the owner signs on the emulated Ledger (APDU level),
 * answered from the device prompt; the relayer sends.
 */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { expect, shot, test, type Custos } from './fixtures.ts';

test.use({ devnet: true });

const CSV = [
  'patient_id,sex,age,diagnosis',
  'P-0001,F,54,I25.1',
  'P-0002,M,61,I48.0',
  'P-0003,F,47,I50.9',
  '',
].join('\n');

/** A vault with one imported dataset, created through the API (the first-run UI has its own test). */
async function vaultWithDataset(custos: Custos): Promise<string> {
  const h = custos.service.handlers;
  await h.createVault({ passphrase: 'granite orchid lantern seventy' });
  const path = join(custos.dir, 'cardiology.csv');
  await writeFile(path, CSV);
  const { jobId } = await h.startImport({
    path,
    name: 'Cardiology cohort 2024',
    description: 'Synthetic patients',
  });
  for (;;) {
    const job = await h.getImport({ jobId });
    if (job.state !== 'running') {
      expect(job.state).toBe('done');
      return job.datasetId ?? '';
    }
    await new Promise<void>((resolve) => {
      const off = custos.service.onEvent((event) => {
        if (event === 'importProgress') {
          off();
          resolve();
        }
      });
    });
  }
}

async function openDataset(page: Page, custos: Custos): Promise<void> {
  await page.goto(custos.host.url);
  await expect(page.getByTestId('network-status')).toContainText('connected', { timeout: 30_000 });
  await page.getByTestId('open-dataset').click();
}

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
