// The byz-momentum panel: a refused aggregator names its limit; a smoke run with two step
// sizes typed as a list; the headline table, the accuracy curves (by round and by bytes),
// a configuration's curves for every γ and its worker strip.
import { expect, test } from '@playwright/test';
import { openLab, paramField as field } from './open-lab';


test('byz-momentum: refusal, smoke run, headline table, curves, worker strip', async ({ page }) => {
  const errors = await openLab(page, 'byz-momentum', 'Byzantine-robust compressed SGD with momentum');
  await page.getByTestId('preset').selectOption('smoke');
  await page.getByTestId('seed').fill('44');

  await page.getByText('Parameters', { exact: true }).click();
  // Krum with n = 10 and f = 4 needs n ≥ 11: refused with the reason, nothing starts.
  await field(page, 'aggregator').locator('select').selectOption('krum');
  await field(page, 'f').locator('input').fill('4');
  await page.getByTestId('run').click();
  await expect(page.getByRole('alert')).toContainText('Krum tolerates f only when n ≥ 2f + 3');

  await field(page, 'aggregator').locator('select').selectOption('cwtm');
  await field(page, 'f').locator('input').fill('3');
  await field(page, 'gammas').locator('input').fill('0.5, 0.05');
  await page.getByTestId('run').click();
  await expect(page.getByTestId('summary')).toBeVisible({ timeout: 90_000 });
  const table = page.getByTestId('byz-headline');
  await expect(table.locator('tbody tr')).toHaveCount(6);
  await expect(table).toContainText('Byz-EF21-SGDM, ALIE, trimmed mean');
  await expect(page.getByTestId('chart-test accuracy vs round')).not.toHaveAttribute('data-points', '0');
  await page.getByLabel('uplink bytes per worker').check();
  await expect(page.getByTestId('chart-test accuracy vs uplink bytes per worker')).toBeVisible();
  await table.getByText('Byz-EF21, IPM, trimmed mean').click();
  await expect(page.getByTestId('chart-test accuracy (ef21_ipm_cwtm)')).toHaveAttribute('data-points', '6');
  const strip = page.getByTestId('worker-strip');
  await strip.scrollIntoViewIfNeeded();
  const box = (await strip.boundingBox())!;
  await page.mouse.move(box.x + 50, box.y + 5);
  await expect(page.getByText(/worker 0 \(Byzantine\), round \d+: distance to the aggregate/)).toBeVisible();
  await page.screenshot({ path: 'test-results/screenshots/byz-momentum-finished.png', fullPage: true });
  expect(errors).toEqual([]);
});
