/**
 * Each test gets its own Custos: a fresh vault folder, the real service (vault, container format)
 * and the loopback web host serving the built renderer.
 */
import AxeBuilder from '@axe-core/playwright';
import { test as base, type Page } from '@playwright/test';
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { CustosService, saveTokenlessSettings } from '../app/service/index.ts';
import { startWebHost, type WebHost } from '../main/web/host.ts';
import { devnetBackend } from '../main/devnet.ts';
import type { StorageSettings } from '../app/ipfs/index.ts';

export const ROOT = resolve(import.meta.dirname, '..');
export const SCREENSHOTS = join(ROOT, 'test-results', 'screenshots');

export interface Custos {
  readonly host: WebHost;
  readonly service: CustosService;
  /** A scratch folder for input files. */
  readonly dir: string;
  /** The devnet profile, when the test asked for it (`test.use({ devnet: true })`). */
  readonly network: ReturnType<typeof devnetBackend> | undefined;
}

export const test = base.extend<{
  custos: Custos;
  devnet: boolean;
  storage: StorageSettings | undefined;
}>({
  /** With the devnet profile: anvil + Helia + key release around the vault, emulated Ledger. */
  devnet: [false, { option: true }],
  /** Remote IPFS backends (kubo nodes) saved in the new vault's storage settings; none by default. */
  storage: [undefined, { option: true }],
  custos: async ({ devnet, storage }, use) => {
    const dir = await mkdtemp(join(tmpdir(), 'custos-e2e-'));
    const network = devnet
      ? devnetBackend({ dir: join(dir, 'devnet'), signer: 'emulated-ledger' })
      : undefined;
    if (storage) await saveTokenlessSettings(join(dir, 'vault'), storage);
    const service = new CustosService({
      vaultDir: join(dir, 'vault'),
      kdf: 'interactive',
      ...(network ? { network } : {}),
    });
    const host = await startWebHost({
      handlers: service.handlers,
      events: service,
      rendererDir: join(ROOT, 'out', 'renderer'),
    });
    await use({ host, service, dir, network });
    await host.close();
    await service.close();
    // a libp2p peer record can still land in the node's datastore while the folder goes (ENOTEMPTY)
    await rm(dir, { recursive: true, force: true, maxRetries: 5, retryDelay: 100 });
  },
});

export { expect } from '@playwright/test';

/** Saves a full-page screenshot as a test artifact (test-results/screenshots/NAME.png). */
export async function shot(page: Page, name: string): Promise<void> {
  await mkdir(SCREENSHOTS, { recursive: true });
  await page.screenshot({ path: join(SCREENSHOTS, `${name}.png`), fullPage: true });
}

/** Serious and critical axe violations (WCAG 2.x A and AA rules) of the screen as it is now. */
export async function seriousViolations(page: Page): Promise<string[]> {
  const result = await new AxeBuilder({ page })
    .withTags(['wcag2a', 'wcag2aa', 'wcag21a', 'wcag21aa'])
    .analyze();
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map((v) => `${v.id} (${v.impact}): ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}
