import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { expect, test, seriousViolations } from './fixtures.ts';

const PASSPHRASE = 'granite orchid lantern seventy';

for (const theme of ['light', 'dark'] as const) {
  test(`every screen has no serious or critical axe violations (${theme})`, async ({
    page,
    custos,
  }) => {
    await page.emulateMedia({ colorScheme: theme });
    await page.goto(custos.host.url);
    await expect(page.getByTestId('welcome')).toBeVisible();
    await page.getByLabel('Passphrase', { exact: true }).fill(PASSPHRASE);
    expect(await seriousViolations(page), 'welcome').toEqual([]);

    await page.getByLabel('Type it again').fill(PASSPHRASE);
    await page.getByTestId('create-vault').click();
    await expect(page.getByTestId('recovery-kit')).toBeVisible();
    expect(await seriousViolations(page), 'recovery kit').toEqual([]);
    const groups = await page.getByTestId('recovery-key').locator('code').allTextContents();
    for (const id of ['kit-group-1', 'kit-group-2']) {
      const field = page.getByTestId(id);
      await field.fill(groups[Number(await field.getAttribute('data-group')) - 1] ?? '');
    }
    await page.getByTestId('kit-confirm').click();

    await expect(page.getByTestId('datasets-empty')).toBeVisible();
    expect(await seriousViolations(page), 'datasets (empty)').toEqual([]);

    const csv = join(custos.dir, 'cohort.csv');
    await writeFile(csv, 'id,name\n1,Jean Dupont\n2,Marie Curie\n');
    await page.getByTestId('import').click();
    await page.getByTestId('import-path').fill(join(custos.dir, 'missing.csv'));
    await page.getByTestId('preview').click();
    await expect(page.getByTestId('error')).toBeVisible();
    expect(await seriousViolations(page), 'import (error)').toEqual([]);
    await page.getByTestId('import-path').fill(csv);
    await page.getByTestId('preview').click();
    await expect(page.getByTestId('import-preview')).toBeVisible();
    expect(await seriousViolations(page), 'import (preview)').toEqual([]);
    await page.getByTestId('start-import').click();
    await expect(page.getByTestId('import-done')).toBeVisible();
    expect(await seriousViolations(page), 'import (done)').toEqual([]);
    await page.getByTestId('to-datasets').click();
    await expect(page.getByTestId('dataset-row')).toHaveCount(1);
    expect(await seriousViolations(page), 'datasets (list)').toEqual([]);
    await page.getByTestId('open-dataset').click();
    await expect(page.getByTestId('dataset-detail')).toBeVisible();
    expect(await seriousViolations(page), 'dataset detail').toEqual([]);

    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    await expect(page.getByTestId('settings-device')).toContainText('not offered in this window');
    await expect(page.getByTestId('settings-network')).toBeVisible();
    expect(await seriousViolations(page), 'Settings').toEqual([]);
    await page.getByRole('button', { name: 'Audit', exact: true }).click();
    await expect(page.getByTestId('audit')).toBeVisible();
    expect(await seriousViolations(page), 'Audit').toEqual([]);
    await page.getByRole('button', { name: 'Address book', exact: true }).click();
    await expect(page.getByTestId('address-book-empty')).toBeVisible();
    expect(await seriousViolations(page), 'Address book').toEqual([]);
    await page.getByRole('button', { name: 'Compliance', exact: true }).click();
    await expect(page.getByTestId('export-empty')).toBeVisible();
    await expect(page.getByTestId('verify-proof')).toBeVisible();
    expect(await seriousViolations(page), 'Compliance').toEqual([]);

    await page.getByTestId('lock').click();
    await page.getByTestId('unlock-secret').fill('wrong passphrase here');
    await page.getByTestId('unlock-submit').click();
    await expect(page.getByTestId('error')).toBeVisible();
    expect(await seriousViolations(page), 'unlock (error)').toEqual([]);
  });
}

test('the whole first run works from the keyboard alone', async ({ page, custos }) => {
  await page.goto(custos.host.url);
  await expect(page.getByTestId('passphrase')).toBeFocused();
  await page.keyboard.type(PASSPHRASE);
  await page.keyboard.press('Tab');
  await page.keyboard.type(PASSPHRASE);
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('recovery-kit')).toBeVisible();
  const groups = await page.getByTestId('recovery-key').locator('code').allTextContents();
  const a = Number(await page.getByTestId('kit-group-1').getAttribute('data-group'));
  const b = Number(await page.getByTestId('kit-group-2').getAttribute('data-group'));
  await page.getByTestId('kit-group-1').focus();
  await page.keyboard.type(groups[a - 1] ?? '');
  await page.keyboard.press('Tab');
  await page.keyboard.type(groups[b - 1] ?? '');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('datasets-empty')).toBeVisible();
  // Tab order reaches the main navigation and the import button; focus is visible.
  await page.keyboard.press('Tab');
  await expect(page.getByRole('link', { name: 'Skip to content' })).toBeFocused();
  let reached = false;
  for (let i = 0; i < 15 && !reached; i += 1) {
    await page.keyboard.press('Tab');
    reached = (await page.locator(':focus').getAttribute('data-testid')) === 'import';
  }
  expect(reached).toBe(true);
  await expect(page.getByTestId('import')).toHaveCSS('outline-style', 'solid');
  await page.keyboard.press('Enter');
  await expect(page.getByTestId('import-path')).toBeVisible();
});
