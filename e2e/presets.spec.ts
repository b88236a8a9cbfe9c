// Presets say their cost: the form opens on smoke (then on the last preset used), each
// preset shows its time (measured here, else the lab's reference), and a long run asks once.
import { expect, test } from '@playwright/test';
import { E2E_TOKEN } from '../playwright.config';

test('presets show their cost; a long preset asks before it runs', async ({ page }) => {
  await page.goto(`/?token=${E2E_TOKEN}`);
  await page.getByTestId('lab-ec-dit').click();
  const preset = page.getByTestId('preset');
  await expect(preset).toHaveValue('smoke');
  await expect(preset.locator('option[value="default"]')).toContainText(/min.*\(reference\)|here/);
  await expect(preset.locator('option[value="smoke"]')).toContainText(/ s here|seconds \(reference\)/);
  await preset.selectOption('paper');
  await page.getByTestId('run').click();
  const ask = page.getByTestId('confirm-run');
  await expect(ask).toContainText('The paper preset takes');
  await page.screenshot({ path: 'test-results/screenshots/preset-confirm.png' });
  await ask.getByRole('button', { name: 'Not now' }).click();
  await expect(ask).toHaveCount(0);
  await expect(page.locator('tr[data-status]', { hasText: 'paper' })).toHaveCount(0); // nothing started
  await expect(page.locator('tr[data-status="running"], tr[data-status="queued"]')).toHaveCount(0);
  // The last preset used is remembered for the lab.
  await page.reload();
  await page.getByTestId('lab-ec-dit').click();
  await expect(page.getByTestId('preset')).toHaveValue('paper');
  await page.getByTestId('preset').selectOption('smoke');
  // A smoke run's phenomenon check is not judged on smoke.
  const smokeRun = page.locator('tr[data-status="succeeded"]', { hasText: 'smoke' }).first();
  if (await smokeRun.count()) {
    await smokeRun.click();
    await expect(page.locator('.kv', { hasText: 'classAccEcAbove0p8' })).toContainText('not judged on smoke');
  }
});
