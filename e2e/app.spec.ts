// A user's first session in the browser host: open the app, run the reference classifier's
// smoke preset and watch its chart grow, cancel a second run, compare both.
import { expect, test } from '@playwright/test';
import { drawOne, openLab } from './open-lab';

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
  // An edit survives a preset change, marked as such, until it is reset to the preset's value.
  await page.getByTestId('preset').selectOption('default');
  await expect(epochs).toHaveValue('0');
  await expect(page.locator('details.params > summary')).toContainText('1 changed from default: epochs');
  await page.locator('.field.edited').getByRole('button', { name: 'edited · reset' }).click();
  await expect(epochs).toHaveValue('5');
  await page.getByTestId('preset').selectOption('smoke');
  await expect(epochs).toHaveValue('3');
  await expect(page.locator('.field.invalid')).toHaveCount(0);
  // Help opens from the keyboard, not only on hover.
  await page.getByRole('button', { name: 'what is epochs?' }).focus();
  await page.keyboard.press('Enter');
  await expect(page.getByRole('note')).toContainText('Passes over the training split');

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
  await expect(page.getByTestId('copy-folder')).toBeVisible(); // the browser host cannot open folders: it offers the path
  await page.getByTestId('report').click();
  await expect(page.getByTestId('report-path')).toContainText('report.html');
  // The report is the run page, static: headline, the lab's panel (its draw pad disabled), curves.
  const reportFile = (await page.getByTestId('report-path').locator('code').innerText()).trim();
  const report = await page.context().newPage();
  const reportErrors: string[] = [];
  report.on('pageerror', (e) => reportErrors.push(e.message));
  await report.goto(`file://${reportFile}`);
  await expect(report.getByTestId('report')).toBeVisible();
  await expect(report.getByTestId('confusion-matrix')).toBeVisible();
  await expect(report.getByTestId('static-note')).toContainText('The draw pad is disabled in a static report');
  await expect(report.getByTestId('chart-trainLoss')).toBeVisible();
  await expect(report.locator('.kv', { hasText: 'test accuracy' }).first()).toContainText('%');
  await expect(report.getByText('Provenance')).toBeVisible();
  await report.screenshot({ path: `${shots}/classifier-report.png`, fullPage: true });
  await report.close();
  expect(reportErrors).toEqual([]);
  await expect(page.getByTestId('confusion-matrix')).toBeVisible();
  await expect(page.locator('.kv', { hasText: 'test accuracy' }).first()).toContainText('%'); // key metrics by display name and unit
  expect(await chart.locator('svg .recharts-line path').count()).toBeGreaterThan(0);
  await page.screenshot({ path: `${shots}/classifier-finished.png`, fullPage: true });

  // Draw a "1" and ask the trained model.
  await drawOne(page);
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
  await expect(compare).toContainText('Runs differ in preset, epochs');
  await expect(compare.getByTestId('compare-sort-epochs')).toBeVisible();
  await expect(compare.getByTestId('compare-table').locator('tbody tr')).toHaveCount(2);
  // Curves only for metrics that have them (key metrics first, others picked), each run named by what differs.
  await compare.getByTestId('compare-curves').locator('summary').click();
  await compare.getByTestId('compare-curves').getByLabel('train loss').check();
  const loss = compare.getByTestId('chart-trainLoss');
  await expect(loss).toBeVisible();
  await expect(loss.locator('.recharts-legend-item-text')).toContainText([/^default epochs=5 .*· seed 22$/, /^smoke epochs=3 .*· seed 21$/]);
  await page.screenshot({ path: `${shots}/classifier-compare.png`, fullPage: true });
  expect(errors).toEqual([]);
});
