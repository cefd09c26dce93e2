/**
 * A steward edits the remote IPFS backends from Settings (devnet, a real kubo node, a real
 * Pinning Service API server in front of it): field errors beside the field, a kubo node and a
 * pinning service (token field) added, a backend removed after a confirmation; the next publish
 * copies the dataset to the kubo node (kubo's `pin ls`) and records that copy (Datasets list and
 * the dataset's Storage tab, with a backend added later marked as holding none), and an
 * unreachable backend is shown as such and makes publish refuse with nothing registered. Then a real two-peer IPFS Cluster (each
 * peer in front of its own kubo, started once for its tests): added from Settings with its copies
 * and REST API password, healthy with 2 peers; a publish pins on both peers' kubos, and a cluster
 * asked for 3 copies makes publish refuse with nothing registered.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Page } from '@playwright/test';
import { CID } from 'multiformats/cid';
import { KuboRpcBackend } from '../app/ipfs/index.ts';
import { CLUSTER_VERSION, ClusterPeer } from '../app/ipfs/cluster-process.ts';
import { KuboDaemon } from '../app/ipfs/kubo-process.ts';
import { startPinningServer, type PinningServer } from '../app/ipfs/pinning-service-server.ts';
import { autoApprove, networkConnected, vaultWithDataset } from './devnet-helpers.ts';
import { expect, seriousViolations, shot, test, type Custos } from './fixtures.ts';

const TOKEN = 'psa-token-4f1c9b2e7d';
let kubo: KuboDaemon;
let pinning: PinningServer;

test.use({ devnet: true });

test.beforeAll(async () => {
  kubo = await KuboDaemon.start();
  pinning = await startPinningServer({
    kubo: new KuboRpcBackend({ apiUrl: kubo.apiUrl }),
    token: TOKEN,
  });
});
test.afterAll(async () => {
  await pinning.close();
  await kubo.stop();
});

async function openSettings(page: Page, url: string): Promise<void> {
  await page.goto(url);
  await expect(page.getByTestId('network-status')).toContainText('connected', { timeout: 30_000 });
  await page.getByRole('button', { name: 'Settings', exact: true }).click();
}

/** A vault with one dataset, the devnet connected: ready to publish. */
async function connectedWithDataset(custos: Custos): Promise<string> {
  const id = await vaultWithDataset(custos);
  await networkConnected(custos);
  return id;
}

/** Publishes `id`, which must be refused with nothing registered; the refusal's message. */
async function refusedPublish(custos: Custos, id: string): Promise<string> {
  const h = custos.service.handlers;
  const approve = autoApprove(custos);
  try {
    const refused = await h.publishDataset({ id }).then(
      () => null,
      (e: unknown) => e as { tag?: string; message?: string },
    );
    expect(refused?.tag).toBe('StorageUnavailable');
    expect(refused?.message).toContain('nothing was registered');
    const after = await h.getDataset({ id });
    expect(after.chain.registered).toBe(false);
    expect(after.storage.ipfsCid).toBeNull();
    return refused?.message ?? '';
  } finally {
    approve();
  }
}

test('add a kubo node and a pinning service from Settings, with field errors; remove one', async ({
  page,
  custos,
}) => {
  test.setTimeout(120_000);
  await vaultWithDataset(custos);
  await openSettings(page, custos.host.url);
  await expect(page.getByTestId('storage-empty')).toBeVisible();
  const backends = page.getByTestId('storage-backend');
  await expect(backends).toHaveCount(1);
  await expect(backends.first().getByRole('button')).toHaveCount(0); // the embedded node stays
  expect(await seriousViolations(page)).toEqual([]);

  const form = page.getByTestId('backend-add-form');
  const name = form.getByTestId('backend-name');
  const url = form.getByTestId('backend-url');
  // A kubo address that is not http(s): refused beside the field, nothing added.
  await name.fill('Hospital IPFS node');
  await url.fill('ftp://127.0.0.1:5001');
  await form.getByTestId('backend-add').click();
  await expect(form.getByTestId('backend-url-error')).toContainText(
    'The address must start with http:// or https://.',
  );
  await expect(url).toHaveAttribute('aria-invalid', 'true');
  await expect(url).toHaveAccessibleDescription(/http:\/\/ or https:\/\//);
  expect(await seriousViolations(page)).toEqual([]);
  await form.scrollIntoViewIfNeeded();
  await shot(page, '61-settings-storage-field-error');
  await expect(backends).toHaveCount(1);

  await url.fill(kubo.apiUrl);
  await form.getByTestId('backend-add').click();
  await expect(form.getByTestId('backend-added')).toBeVisible();
  const hospital = backends.filter({ hasText: 'Hospital IPFS node' });
  await expect(hospital).toHaveAttribute('data-health', 'ok');
  await expect(hospital).toContainText(/kubo \d+\.\d+/);
  await expect(name).toHaveValue('');

  // The same name again (another case): a field error on the name.
  await name.fill('hospital ipfs node');
  await url.fill(kubo.apiUrl);
  await form.getByTestId('backend-add').click();
  await expect(form.getByTestId('backend-name-error')).toContainText('already called');
  await expect(name).toHaveAttribute('aria-invalid', 'true');

  // A pinning service: the token field is a password field; an empty token is refused.
  await form.getByTestId('backend-kind-pinning').check();
  const token = form.getByTestId('backend-token');
  await expect(token).toHaveAttribute('type', 'password');
  await expect(form.getByText('encrypted with your vault key')).toBeVisible();
  await name.fill('Regional pinning service');
  await url.fill(pinning.url);
  await form.getByTestId('backend-add').click();
  await expect(form.getByTestId('backend-token-error')).toContainText('access token');
  await expect(form.getByTestId('backend-name-error')).toHaveCount(0);
  await token.fill(TOKEN);
  await form.getByTestId('backend-add').click();
  await expect(form.getByTestId('backend-added')).toBeVisible();
  // Reachable and accepting the token: the sealed token was opened for the health check.
  await expect(backends.filter({ hasText: 'Regional pinning service' })).toHaveAttribute(
    'data-health',
    'ok',
  );
  await expect(token).toHaveValue('');
  // A second service with a wrong token is shown unreachable, with the service's answer.
  await name.fill('Pinning service, wrong token');
  await url.fill(pinning.url);
  await token.fill('not-the-token');
  await form.getByTestId('backend-add').click();
  const wrong = backends.filter({ hasText: 'wrong token' });
  await expect(wrong).toHaveAttribute('data-health', 'unreachable');
  await expect(wrong).toContainText(/401|token|unauthori/i);
  // The tokens are not in the vault's settings file in clear.
  const file = await readFile(join(custos.dir, 'vault', 'storage.json'), 'utf8');
  expect(file).not.toContain(TOKEN);
  expect(file).not.toContain('not-the-token');
  expect(await seriousViolations(page)).toEqual([]);
  await shot(page, '62-settings-storage-backends');

  // Remove asks once, naming what stops; "Keep it" keeps it.
  await wrong.getByTestId('backend-remove').click();
  const confirm = page.getByTestId('backend-remove-confirm');
  await expect(confirm).toContainText('no longer be copied to Pinning service, wrong token');
  await expect(confirm).toContainText('its access token is deleted');
  await expect(confirm).toBeFocused();
  expect(await seriousViolations(page)).toEqual([]);
  await shot(page, '63-settings-storage-remove');
  await confirm.getByRole('button', { name: 'Keep it' }).click();
  await expect(confirm).toHaveCount(0);
  await expect(wrong).toHaveCount(1);
  await wrong.getByTestId('backend-remove').click();
  await confirm.getByTestId('backend-remove-yes').click();
  await expect(wrong).toHaveCount(0);
  await expect(page.getByTestId('backend-removed')).toContainText(
    'Removed Pinning service, wrong token',
  );
  await expect(page.getByRole('heading', { name: 'IPFS storage' })).toBeFocused();
  await expect(backends).toHaveCount(3);
  const kept = (await custos.service.handlers.getSettings({})).storage.backends.map((b) => b.name);
  expect(kept).toEqual([
    'Embedded IPFS node (in this app)',
    'Hospital IPFS node',
    'Regional pinning service',
  ]);

  // Not published yet: the Storage tab names the backends the publish will copy to.
  await page.getByRole('button', { name: 'Datasets', exact: true }).click();
  await expect(page.getByTestId('dataset-stored')).toContainText('IPFS: not published yet');
  await page.getByTestId('open-dataset').click();
  await page.getByRole('tab', { name: 'Storage' }).click();
  await expect(page.getByTestId('storage-copy')).toHaveCount(0);
  await expect(page.getByTestId('storage-not-copied')).toHaveText([
    '○ Hospital IPFS node (kubo) — will be copied when you publish',
    '○ Regional pinning service (pinning service) — will be copied when you publish',
  ]);
});

test('the next publish copies to the kubo node; an unreachable backend makes it refuse', async ({
  page,
  custos,
}) => {
  test.setTimeout(120_000);
  const id = await connectedWithDataset(custos);
  const h = custos.service.handlers;
  await h.addStorageBackend({ kind: 'kubo', name: 'Hospital IPFS node', apiUrl: kubo.apiUrl });
  await h.addStorageBackend({
    kind: 'kubo',
    name: 'Switched-off node',
    apiUrl: 'http://127.0.0.1:9',
  });

  await openSettings(page, custos.host.url);
  const backends = page.getByTestId('storage-backend');
  await expect(backends.filter({ hasText: 'Hospital IPFS node' })).toHaveAttribute(
    'data-health',
    'ok',
  );
  const off = backends.filter({ hasText: 'Switched-off node' });
  await expect(off).toHaveAttribute('data-health', 'unreachable');
  await expect(off).toContainText('✕ Unreachable');

  expect(await refusedPublish(custos, id)).toContain('Switched-off node');
  const approve = autoApprove(custos);
  try {
    // Removed (no restart): the next publish copies to the hospital's node and registers.
    await h.removeStorageBackend({ name: 'Switched-off node' });
    const published = await h.publishDataset({ id });
    expect(published.chain.registered).toBe(true);
    const cid = published.storage.ipfsCid ?? '';
    expect(cid).not.toBe('');
    expect((await kubo.cli(['pin', 'ls', '--type=recursive', cid])).toString()).toContain(cid);
    // The copy it confirmed is recorded with the dataset; the refused backend has none.
    expect(published.storage.copies).toEqual([
      { name: 'Hospital IPFS node', kind: 'kubo', pinnedAt: expect.any(String) as unknown },
    ]);
  } finally {
    approve();
  }

  // A backend added after the publish: the dataset has no copy there, and the Storage tab says so.
  await h.addStorageBackend({
    kind: 'pinning-service',
    name: 'Regional pinning service',
    endpoint: pinning.url,
    token: TOKEN,
  });
  await page.getByRole('button', { name: 'Datasets', exact: true }).click();
  const stored = page.getByTestId('dataset-row').getByTestId('dataset-stored');
  await expect(stored).toContainText('✓ This computer · ✓ IPFS · ✓ 1 backend');
  await expect(stored).toContainText('Also pinned by Hospital IPFS node');
  await expect(page.getByTestId('dataset-row')).toContainText('✓ Registered');
  expect(await seriousViolations(page)).toEqual([]);
  await shot(page, '66-datasets-stored-where');

  await page.getByTestId('open-dataset').click();
  await page.getByRole('tab', { name: 'Storage' }).click();
  const copy = page.getByTestId('storage-copy');
  await expect(copy).toHaveCount(1);
  await expect(copy).toContainText(
    /^✓ Hospital IPFS node \(kubo\) — pinned .+ \((\d+ seconds? ago|now)\)$/,
  );
  const later = page.getByTestId('storage-not-copied');
  await expect(later).toHaveCount(1);
  await expect(later).toHaveText(
    '○ Regional pinning service (pinning service) — added after this dataset was published; publish copies only new datasets',
  );
  await expect(page.getByTestId('storage-list')).not.toContainText('Switched-off node');
  expect(await seriousViolations(page)).toEqual([]);
  await shot(page, '67-dataset-storage-tab');

  // The copy's backend removed from Settings: the copy stays listed, and says it was removed.
  await h.removeStorageBackend({ name: 'Hospital IPFS node' });
  await page.getByRole('tab', { name: 'Details' }).click();
  await page.getByRole('tab', { name: 'Storage' }).click();
  await expect(copy).toContainText(
    '; since removed from Settings, so new datasets are not copied there',
  );
});

test.describe('an IPFS Cluster of two peers', () => {
  const auth = { user: 'custos', password: 'cluster-rest-password-83d1' };
  let kubos: KuboDaemon[] = [];
  let peers: ClusterPeer[] = [];
  /** The peer whose REST API asks for a password, and the open one. */
  const guarded = (): ClusterPeer => peers[0] as ClusterPeer;
  const open = (): ClusterPeer => peers[1] as ClusterPeer;

  test.beforeAll(async () => {
    test.setTimeout(120_000);
    kubos = await Promise.all([KuboDaemon.start(), KuboDaemon.start()]);
    const secret = ClusterPeer.secret();
    const first = await ClusterPeer.start(kubos[0] as KuboDaemon, { secret, basicAuth: auth });
    peers = [first];
    peers.push(
      await ClusterPeer.start(kubos[1] as KuboDaemon, { secret, bootstrap: first.address }),
    );
    await Promise.all(peers.map((p) => p.waitForPeers(2)));
  });
  test.afterAll(async () => {
    for (const p of peers.reverse()) await p.stop();
    await Promise.all(kubos.map((k) => k.stop()));
  });

  test('added from Settings with its copies and password: healthy with 2 peers; 3 copies on 2 peers or a wrong password refuses a publish', async ({
    page,
    custos,
  }) => {
    test.setTimeout(120_000);
    const id = await vaultWithDataset(custos);
    await custos.service.handlers.addStorageBackend({
      kind: 'ipfs-cluster',
      name: 'Cluster, old password',
      apiUrl: guarded().apiUrl,
      replicationMin: 1,
      replicationMax: 1,
      user: auth.user,
      password: 'an-old-password',
    });
    await openSettings(page, custos.host.url);
    const form = page.getByTestId('backend-add-form');
    await form.getByTestId('backend-kind-cluster').check();
    const min = form.getByTestId('backend-min');
    const max = form.getByTestId('backend-max');
    await expect(min).toHaveValue('2');
    await expect(max).toHaveValue('3');
    await expect(form.getByTestId('backend-password')).toHaveAttribute('type', 'password');
    await form.getByTestId('backend-name').fill('Hospital network cluster');
    await form.getByTestId('backend-url').fill(guarded().apiUrl);

    // Field errors beside their field: no copies, fewer at most than at least, a user alone.
    const refused = async (field: string, text: string): Promise<void> => {
      await form.getByTestId('backend-add').click();
      await expect(form.getByTestId(`backend-${field}-error`)).toContainText(text);
      await expect(form.getByTestId(`backend-${field}`)).toHaveAttribute('aria-invalid', 'true');
    };
    await min.fill('0');
    await refused('min', 'Keep at least 1 copy.');
    await min.fill('3');
    await max.fill('2');
    await refused('max', 'cannot be fewer than the least (3)');
    await expect(form.getByTestId('backend-min-error')).toHaveCount(0);
    await expect(form.getByTestId('backend-max')).toHaveAccessibleDescription(
      /fewer than the least/,
    );
    await min.fill('2');
    await max.fill('3');
    await form.getByTestId('backend-user').fill(auth.user);
    await refused('password', 'Enter the password of this user.');
    expect(await seriousViolations(page)).toEqual([]);
    await form.scrollIntoViewIfNeeded();
    await shot(page, '64-settings-cluster-field-error');

    await form.getByTestId('backend-password').fill(auth.password);
    await form.getByTestId('backend-add').click();
    await expect(form.getByTestId('backend-added')).toBeVisible();
    await expect(form.getByTestId('backend-password')).toHaveValue('');
    const backends = page.getByTestId('storage-backend');
    const network = backends.filter({ hasText: 'Hospital network cluster' });
    // The password was opened (sealed with the vault key here) and accepted by the REST API.
    await expect(network).toHaveAttribute('data-health', 'ok');
    await expect(network).toContainText(`IPFS Cluster ${CLUSTER_VERSION}`);
    await expect(network).toContainText('2 peers');
    await expect(network.getByTestId('backend-copies')).toHaveText('Keeps 2–3 copies');

    // The open peer, asked for 3 copies: reachable, but it says a publish will refuse.
    await form.getByTestId('backend-name').fill('Three copies');
    await form.getByTestId('backend-url').fill(open().apiUrl);
    await min.fill('3');
    await max.fill('3');
    await form.getByTestId('backend-add').click();
    const three = backends.filter({ hasText: 'Three copies' });
    await expect(three).toHaveAttribute('data-health', 'ok');
    await expect(three).toContainText('fewer peers than the 3 copies asked for');
    await expect(three.getByTestId('backend-copies')).toHaveText('Keeps 3 copies');
    const old = backends.filter({ hasText: 'Cluster, old password' });
    await expect(old).toHaveAttribute('data-health', 'unreachable');
    await expect(old).toContainText('refused the credentials');
    await expect(old.getByTestId('backend-copies')).toHaveText('Keeps 1 copy');
    const file = await readFile(join(custos.dir, 'vault', 'storage.json'), 'utf8');
    expect(file).not.toContain(auth.password);
    expect(await seriousViolations(page)).toEqual([]);
    await page.getByTestId('settings-storage').scrollIntoViewIfNeeded();
    await shot(page, '65-settings-cluster-backends');

    await networkConnected(custos);
    const refusal = await refusedPublish(custos, id);
    expect(refusal).toMatch(/Three copies \(.*not enough peers/);
    expect(refusal).toMatch(/Cluster, old password \(.*refused the credentials/);
    expect(refusal).not.toContain('Hospital network cluster');
  });

  test('the next publish is pinned by both cluster peers’ kubos, then registered', async ({
    custos,
  }) => {
    test.setTimeout(120_000);
    const id = await connectedWithDataset(custos);
    const h = custos.service.handlers;
    await h.addStorageBackend({
      kind: 'ipfs-cluster',
      name: 'Hospital network cluster',
      apiUrl: guarded().apiUrl,
      replicationMin: 2,
      replicationMax: 3,
      ...auth,
    });
    const approve = autoApprove(custos);
    try {
      const published = await h.publishDataset({ id });
      expect(published.chain.registered).toBe(true);
      const cid = CID.parse(published.storage.ipfsCid ?? '');
      for (const kubo of kubos)
        expect(await new KuboRpcBackend({ apiUrl: kubo.apiUrl }).isPinned(cid)).toBe(true);
    } finally {
      approve();
    }
  });
});

test('CID version and pin wait are changed from Settings; a CIDv0 publish gives a Qm… CID', async ({
  page,
  custos,
}) => {
  test.setTimeout(120_000);
  const id = await connectedWithDataset(custos);
  await openSettings(page, custos.host.url);
  const form = page.getByTestId('storage-options-form');
  const wait = form.getByTestId('pin-timeout-minutes');
  await expect(form.getByTestId('cid-v1')).toBeChecked();
  await expect(wait).toHaveValue('10');

  // Two days is more than the service waits: refused beside the field, nothing saved.
  await wait.fill('2880');
  await form.getByTestId('storage-options-save').click();
  await expect(form.getByTestId('pinTimeoutSeconds-error')).toContainText(
    'Wait between 10 seconds and 24 hours (1440 minutes).',
  );
  await expect(wait).toHaveAttribute('aria-invalid', 'true');
  await expect(wait).toHaveAccessibleDescription(/between 10 seconds and 24 hours/);
  expect(await seriousViolations(page)).toEqual([]);
  expect((await custos.service.handlers.getSettings({})).storage.pinTimeoutSeconds).toBe(600);

  await wait.fill('30');
  await form.getByTestId('cid-v0').check();
  await form.getByTestId('storage-options-save').click();
  await expect(form.getByTestId('storage-options-saved')).toContainText(
    'Saved: new datasets use CIDv0, and a publish waits up to 30 minutes for a remote pin.',
  );
  await expect(form.getByTestId('pinTimeoutSeconds-error')).toHaveCount(0);
  expect(await seriousViolations(page)).toEqual([]);
  await form.scrollIntoViewIfNeeded();
  await shot(page, '68-settings-storage-options');

  // Saved in the vault folder: a reload shows them again.
  const saved = JSON.parse(await readFile(join(custos.dir, 'vault', 'storage.json'), 'utf8')) as {
    settings: { cidVersion: number; pinTimeoutSeconds: number };
  };
  expect(saved.settings).toMatchObject({ cidVersion: 0, pinTimeoutSeconds: 1800 });
  await openSettings(page, custos.host.url); // a new page load
  await expect(page.getByTestId('cid-v0')).toBeChecked();
  await expect(page.getByTestId('pin-timeout-minutes')).toHaveValue('30');

  // The next publish uses the saved CID version: a CIDv0 ("Qm…"), pinned by the embedded node.
  const approve = autoApprove(custos);
  try {
    const published = await custos.service.handlers.publishDataset({ id });
    expect(published.chain.registered).toBe(true);
    const cid = published.storage.ipfsCid ?? '';
    expect(cid).toMatch(/^Qm[1-9A-HJ-NP-Za-km-z]{44}$/);
    expect(CID.parse(cid).version).toBe(0);
  } finally {
    approve();
  }
});
