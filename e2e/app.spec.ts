// A user's first session in the browser host: open the app, run the reference classifier's
// smoke preset and watch its chart grow, cancel a second run, compare both.
import { expect, test } from '@playwright/test';
import { openLab } from './open-lab';

const shots = 'test-results/screenshots';

test('browser host refuses a page load without the token', async ({ page }) => {
  const res = await page.goto('/');
  expect(res?.status()).toBe(403);
});

test('run, watch, cancel, compare: reference classifier', async ({ page }) => {
  const errors = await openLab(page, 'reference-classifier', 'Reference classifier');

  // The generated form validates as the user types.
  await page.getByText('Parameters').click();
  const epochs = page.locator('input[name="epochs"]');
  await epochs.fill('0');
  await expect(page.locator('.field.invalid')).toContainText('at least 1');
  await page.getByTestId('run').click();
  await expect(page.getByRole('alert')).toContainText('epochs');
  // Choosing a preset replaces the invalid value with the preset's (the form opened on smoke).
  await page.getByTestId('preset').selectOption('default');
  await expect(epochs).not.toHaveValue('0');
  await page.getByTestId('preset').selectOption('smoke');
  await expect(epochs).not.toHaveValue('0');
  await expect(page.locator('.field.invalid')).toHaveCount(0);

  // First run: watch the loss chart grow while it trains.
  await page.getByTestId('seed').fill('21');
  await page.getByTestId('run').click();
  const chart = page.getByTestId('chart-trainLoss');
  await expect(chart).toBeVisible({ timeout: 30_000 });
  const firstCount = Number(await chart.getAttribute('data-points'));
  await page.screenshot({ path: `${shots}/classifier-training.png` });
  await expect.poll(async () => Number(await chart.getAttribute('data-points')), { timeout: 60_000 }).toBeGreaterThan(firstCount);
  await expect(page.getByTestId('summary')).toBeVisible({ timeout: 90_000 });
  await expect(page.getByTestId('progress')).toContainText('phase 1 of 1 · train'); // the run's plan, as the lab declared it
  // The run's folder, and its report written there.
  await expect(page.getByTestId('run-files')).toContainText('e2e-home/runs/');
  await page.getByTestId('report').click();
  await expect(page.getByTestId('report-path')).toContainText('report.html');
  await expect(page.getByTestId('confusion-matrix')).toBeVisible();
  await expect(page.locator('.kv', { hasText: 'test accuracy' }).first()).toContainText('%'); // key metrics by display name and unit
  expect(await chart.locator('svg .recharts-line path').count()).toBeGreaterThan(0);
  await page.screenshot({ path: `${shots}/classifier-finished.png`, fullPage: true });

  // Draw a "1" and ask the trained model.
  const pad = page.getByTestId('drawpad');
  const box = (await pad.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + 20);
  await page.mouse.down();
  for (let y = 20; y <= box.height - 20; y += 6) await page.mouse.move(box.x + box.width / 2, box.y + y);
  await page.mouse.up();
  await expect(page.getByTestId('prediction')).toBeVisible({ timeout: 20_000 });

  // Second run, cancelled while it trains.
  await page.getByTestId('preset').selectOption('default');
  await page.getByTestId('seed').fill('22');
  await page.getByTestId('run').click();
  await expect(page.locator('.progress .status-running')).toBeVisible({ timeout: 30_000 });
  await page.getByTestId('cancel').click();
  const table = page.getByTestId('runs-table');
  await expect(table.locator('tr[data-status="cancelled"]')).toHaveCount(1, { timeout: 15_000 });
  await expect(table.locator('tr[data-status="succeeded"]')).toHaveCount(1);

  // Compare both.
  await table.locator('tbody input[type="checkbox"]').nth(0).check();
  await table.locator('tbody input[type="checkbox"]').nth(1).check();
  await page.getByTestId('compare').click();
  const compare = page.getByTestId('compare-view');
  await expect(compare).toBeVisible();
  await expect(compare.getByText('Params that differ')).toBeVisible();
  await expect(compare.getByRole('cell', { name: 'epochs', exact: true })).toBeVisible();
  await page.screenshot({ path: `${shots}/classifier-compare.png`, fullPage: true });
  expect(errors).toEqual([]);
});
