/**
 * Bad input and broken surroundings (issue 8, "Bad input"), through the UI against the devnet
 * profile: the Ledger locked in the middle of a grant, a grant that ends before it starts, the
 * chain's RPC endpoint gone, the hospital's IPFS node down while publishing. Each one shows a
 * sentence that says what to do, and the app stays usable.
 */
import type { Page } from '@playwright/test';
import { expect, seriousViolations, shot, test, type Custos } from './fixtures.ts';
import {
  emulatedDevice,
  networkConnected,
  openDataset,
  publishedDataset,
  vaultWithDataset,
} from './devnet-helpers.ts';
import { crashListener } from '../app/service/kill-listener.ts';
import {
  freePort,
  initKuboRepo,
  kuboBinary,
  KuboDaemon,
  runKubo,
} from '../app/ipfs/kubo-process.ts';

test.use({ devnet: true });

const LAB = '0x70997970C51812dc3A010C7d01b50e0d17dc79C8';

test('the Ledger locked during a grant: the prompt says to unlock it; once unlocked the grant completes', async ({
  page,
  custos,
}) => {
  await publishedDataset(custos);
  const device = emulatedDevice(custos);
  await openDataset(page, custos);
  await page.getByRole('tab', { name: 'Grants' }).click();
  await page.getByTestId('new-grant').click();
  await page.getByTestId('grantee-name').fill('Oncology Lab, Univ. of Lyon');
  await page.getByTestId('grantee-address').fill(LAB);
  await page.getByTestId('wizard-next').click();
  await page.getByTestId('app-cohort-stats').check();
  await page.getByTestId('wizard-next').click();
  await page.getByTestId('wizard-next').click(); // default window: now → in 90 days
  await page.getByTestId('grant-purpose').fill('Cardiology outcomes research');
  await page.getByTestId('grant-legal').fill('GDPR art. 9(2)(j)');
  await page.getByTestId('wizard-next').click();
  await page.getByTestId('grant-sign').click();

  // The device shows the grant, in words next to its raw field names; then it locks itself.
  const fields = page.getByTestId('device-fields');
  await expect(fields).toContainText('Grantee');
  await expect(fields).toContainText('Runs');
  await expect(fields).toContainText('maxRuns');
  device.lock();

  // The prompt says what to do, and Custos keeps asking the device meanwhile (no dead end).
  const trouble = page.getByTestId('device-waiting');
  await expect(trouble).toContainText('Unlock your Ledger');
  await expect(trouble).toContainText('carries on by itself');
  await expect(page.getByTestId('device-status')).toContainText('Unlock your Ledger');
  await expect(page.getByTestId('grant-sign')).toHaveText('Waiting for your device…');
  await expect(page.getByTestId('error')).toHaveCount(0);
  await shot(page, '50-grant-device-locked');

  // Unlocked: the device shows the grant again by itself; approving completes the grant.
  device.unlock();
  await expect(fields).toContainText(LAB);
  await page.getByTestId('device-approve').click();
  await expect(page.getByTestId('grant-done')).toContainText('Oncology Lab, Univ. of Lyon may run');
  await expect(page.getByTestId('error')).toHaveCount(0);
});

/** A dataset in a new vault, published with the emulated Ledger locked: the wait is on screen. */
async function publishWithLedgerLocked(page: Page, custos: Custos) {
  await vaultWithDataset(custos);
  const device = emulatedDevice(custos);
  device.lock();
  await openDataset(page, custos);
  await page.getByTestId('publish-button').click();
  const waiting = page.getByTestId('device-waiting');
  await expect(waiting).toContainText('Unlock your Ledger (enter its PIN)');
  return { device, waiting };
}

test('publishing with the Ledger locked: the stages wait, the screen says to unlock it, then it goes on', async ({
  page,
  custos,
}) => {
  const { device, waiting } = await publishWithLedgerLocked(page, custos);
  await expect(page.getByTestId('publish-stages')).toContainText('Registering on the network');
  await expect(page.getByTestId('error')).toHaveCount(0);
  await shot(page, '56-publish-device-locked');
  device.unlock();
  await page.getByTestId('device-approve').click(); // the address
  await expect(page.getByTestId('device-fields')).toContainText('Ciphertext hash');
  await page.getByTestId('device-approve').click();
  await expect(page.getByTestId('device-fields')).toContainText('Operator');
  await page.getByTestId('device-approve').click();
  await expect(page.getByTestId('chain-chip')).toContainText('Network: registered');
  await expect(waiting).toHaveCount(0);
});

test('publishing with the Ledger locked, then Stop waiting: publish ends cancelled, nothing registered', async ({
  page,
  custos,
}) => {
  const { waiting } = await publishWithLedgerLocked(page, custos);
  await page.getByTestId('device-stop-waiting').click();
  await expect(page.getByTestId('error')).toContainText('cancelled');
  await expect(waiting).toHaveCount(0);
  await expect(page.getByTestId('chain-chip')).toContainText('Network: not registered');
  await expect(page.getByTestId('ipfs-chip')).toContainText('IPFS: published');
  expect(await seriousViolations(page)).toEqual([]);
  await shot(page, '57-publish-device-wait-stopped');
});

test('a grant that ends before it starts is refused on the spot, and nothing reaches the device', async ({
  page,
  custos,
}) => {
  const datasetId = await publishedDataset(custos);
  const device = emulatedDevice(custos);
  let prompts = 0;
  device.events.on('prompt', () => (prompts += 1));
  await openDataset(page, custos);
  await page.getByRole('tab', { name: 'Grants' }).click();
  await page.getByTestId('new-grant').click();
  await page.getByTestId('grantee-name').fill('Oncology Lab, Univ. of Lyon');
  await page.getByTestId('grantee-address').fill(LAB);
  await page.getByTestId('wizard-next').click();
  await page.getByTestId('app-cohort-stats').check();
  await page.getByTestId('wizard-next').click();

  const until = page.getByTestId('grant-until');
  await page.getByTestId('grant-from').fill('2027-06-01T09:00');
  await until.fill('2027-05-01T09:00');
  await expect(page.getByTestId('dates-error')).toContainText('ends before it starts');
  await expect(until).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByTestId('wizard-next')).toBeDisabled();
  await shot(page, '51-grant-end-before-start');
  // An emptied date field is a field error too (it used to crash the wizard).
  await until.fill('');
  await expect(page.getByTestId('dates-error')).toContainText('Enter both dates');
  await expect(page.getByTestId('wizard-next')).toBeDisabled();
  await until.fill('2027-07-01T09:00');
  await expect(page.getByTestId('dates-error')).toHaveCount(0);
  await expect(page.getByTestId('wizard-next')).toBeEnabled();

  // The service refuses it too, before asking the device anything.
  await expect(
    custos.service.handlers.createGrant({
      datasetId,
      grantee: { address: LAB, name: 'Oncology Lab, Univ. of Lyon' },
      apps: ['cohort-stats'],
      notBefore: '2027-06-01T09:00:00.000Z',
      notAfter: '2027-05-01T09:00:00.000Z',
      maxRuns: 1,
      purpose: 'Research',
      legalBasis: 'Consent',
    }),
  ).rejects.toMatchObject({ tag: 'UsageError', message: expect.stringContaining('ends before') });
  expect(prompts).toBe(0);
  await expect(page.getByTestId('device-prompt')).toHaveCount(0);
});

test('RPC down: the network chip and the publish action say so and what to do; the app stays usable; restarting brings it back', async ({
  page,
  custos,
}) => {
  await vaultWithDataset(custos);
  await networkConnected(custos);
  const session = custos.network?.sessions[0];
  if (!session) throw new Error('the devnet did not start');
  await openDataset(page, custos);
  await expect(page.getByTestId('publish-button')).toBeEnabled();

  await crashListener(session.rpcUrl); // anvil dies (SIGKILL), as a node does
  const chip = page.getByTestId('network-status');
  await expect(chip).toContainText('unreachable — see Settings');
  await expect(chip).toHaveAttribute('title', /does not answer/);
  await expect(page.getByTestId('publish-wait')).toContainText('does not answer');
  await expect(page.getByTestId('publish-button')).toBeDisabled();
  // A call that needs the chain fails at once with the sentence for it, not a hang.
  await expect(
    custos.service.handlers.listGrants({
      datasetId: (await custos.service.handlers.listDatasets({})).datasets[0]?.id ?? '',
    }),
  ).rejects.toMatchObject({
    tag: 'RpcUnavailable',
  });
  await shot(page, '52-rpc-down');

  // Still usable: the datasets (local), the address book, the settings.
  await page.getByRole('button', { name: '← All datasets' }).click();
  await expect(page.getByTestId('dataset-row')).toHaveCount(1);
  await page.getByRole('button', { name: 'Address book', exact: true }).click();
  await expect(page.getByTestId('address-book-empty')).toBeVisible();
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  await expect(page.getByTestId('settings-network-state')).toHaveAttribute(
    'data-state',
    'unreachable',
  );
  await expect(page.getByTestId('settings-network-problem')).toContainText(
    'stopped answering. Restart it',
  );
  await shot(page, '53-settings-rpc-down');

  await page.getByTestId('restart-network').click();
  await expect(chip).toContainText('connected (chain 31337)', { timeout: 30_000 });
  await expect(page.getByTestId('settings-network-problem')).toHaveCount(0);
  await page.getByRole('button', { name: 'Datasets', exact: true }).click();
  await page.getByTestId('open-dataset').click();
  await expect(page.getByTestId('publish-button')).toBeEnabled();
});

test('auto-lock minutes out of range are a field error; a valid choice is saved and shown', async ({
  page,
  custos,
}) => {
  await custos.service.handlers.createVault({ passphrase: 'granite orchid lantern seventy' });
  await page.goto(custos.host.url);
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
  const minutes = page.getByTestId('autolock-minutes');
  await minutes.fill('0');
  await expect(minutes).toHaveAttribute('aria-invalid', 'true');
  await expect(page.getByTestId('autolock-save')).toBeDisabled();
  await minutes.fill('2000');
  await expect(page.getByTestId('autolock-save')).toBeDisabled();
  await minutes.fill('25');
  await expect(minutes).toHaveAttribute('aria-invalid', 'false');
  await page.getByTestId('autolock-save').click();
  await expect(page.getByTestId('autolock-saved')).toContainText('locks after 25 minutes idle');
  await expect(page.locator('.sidenav-foot')).toHaveText('Locks after 25 min idle');
  expect((await custos.service.handlers.getStatus({})).autoLockMinutes).toBe(25);
});

test.describe('the hospital’s IPFS node (kubo) down during publish', () => {
  let kubo: KuboDaemon | null = null;
  let repo = '';
  let apiUrl = '';

  test.use({
    // eslint-disable-next-line no-empty-pattern -- Playwright reads a fixture's dependencies from it
    storage: async ({}, use) => {
      const binary = kuboBinary();
      repo = await initKuboRepo(binary);
      const port = await freePort();
      await runKubo(binary, repo, ['config', 'Addresses.API', `/ip4/127.0.0.1/tcp/${port}`]);
      kubo = await KuboDaemon.start(binary, repo);
      apiUrl = kubo.apiUrl;
      await use({
        kubo: [{ name: 'Hospital IPFS node', apiUrl }],
        pinningServices: [],
        clusters: [],
        cidVersion: 1,
        pinTimeoutSeconds: 60,
      });
      await kubo.stop();
    },
  });

  test('explained error, nothing registered; retry works once it is back', async ({
    page,
    custos,
  }) => {
    test.setTimeout(120_000);
    await vaultWithDataset(custos);
    await page.goto(custos.host.url);
    await expect(page.getByTestId('network-status')).toContainText('connected', {
      timeout: 30_000,
    });
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    const backend = page.getByTestId('storage-backend').filter({ hasText: 'Hospital IPFS node' });
    await expect(backend).toHaveAttribute('data-health', 'ok');
    await expect(backend).toContainText('kubo');
    await shot(page, '54-settings-storage');
    await page.getByTestId('theme').selectOption('dark');
    await shot(page, '54-settings-storage-dark');
    await page.getByTestId('theme').selectOption('light');

    const device = emulatedDevice(custos);
    let prompts = 0;
    device.events.on('prompt', () => (prompts += 1));
    await kubo?.stop({ keepRepo: true });
    // Settings shows it at the next check (leaving and coming back asks again at once).
    await page.getByRole('button', { name: 'Datasets', exact: true }).click();
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    await expect(backend).toHaveAttribute('data-health', 'unreachable');

    await page.getByRole('button', { name: 'Datasets', exact: true }).click();
    await page.getByTestId('open-dataset').click();
    await page.getByTestId('publish-button').click();
    const error = page.getByTestId('error');
    await expect(error).toHaveAttribute('data-tag', 'StorageUnavailable');
    await expect(error).toContainText('Not published — nothing was registered on the network');
    await expect(error).toContainText('Check Settings → Storage and retry');
    await expect(page.getByTestId('publish-stages')).toContainText('✕ Publishing to IPFS');
    await expect(page.getByTestId('chain-chip')).toContainText('not registered');
    await expect(page.getByTestId('ipfs-chip')).toContainText('not published yet');
    expect(prompts).toBe(0); // nothing was signed
    await shot(page, '55-publish-ipfs-down');

    // The node comes back (same repository, same API address): Retry goes all the way.
    kubo = await KuboDaemon.start(kuboBinary(), repo);
    expect(kubo.apiUrl).toBe(apiUrl);
    await page.getByTestId('publish-button').click();
    await page.getByTestId('device-approve').click(); // the address
    await expect(page.getByTestId('device-fields')).toContainText('ciphertextHash');
    await page.getByTestId('device-approve').click();
    await expect(page.getByTestId('device-fields')).toContainText('operator', {
      ignoreCase: true,
    });
    await page.getByTestId('device-approve').click();
    await expect(page.getByTestId('chain-chip')).toContainText('Network: registered');
    await expect(page.getByTestId('error')).toHaveCount(0);
    const dataset = (await custos.service.handlers.listDatasets({})).datasets[0];
    const cid = dataset?.storage.ipfsCid ?? '';
    expect(cid).not.toBe('');
    // The hospital's node holds the pin (kubo's own CLI, through its API).
    expect((await kubo.cli(['pin', 'ls', '--type=recursive', cid])).toString()).toContain(cid);
  });
});
