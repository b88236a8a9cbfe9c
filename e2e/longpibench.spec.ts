// The positional-bias panel: a smoke run, recall against absolute and relative level (a
// line per model, the paper's points dashed), the placement table, the example instance
// with its relevant rows highlighted and each model's answer; a new instance asked for, and
// a mistyped level answered with a message; an endpoint nothing listens on named per instance.
import { expect, test } from '@playwright/test';
import { openLab, paramField as field } from './open-lab';

test('longpibench: smoke run, level curves, placement table, instance viewer, bad level', async ({ page }) => {
  const errors = await openLab(page, 'longpibench', 'Positional bias with several relevant pieces');
  await page.getByTestId('preset').selectOption('smoke');
  await page.getByTestId('seed').fill('31');
  await page.getByTestId('run').click();
  await expect(page.getByTestId('summary')).toBeVisible({ timeout: 110_000 });
  for (const kind of ['absolute', 'relative']) {
    const chart = page.getByTestId(`longpi-${kind}`);
    await expect(chart.locator('.recharts-line')).toHaveCount(kind === 'absolute' ? 3 : 4); // 2 models + the paper's lines
    await expect(chart.locator('.recharts-line-curve').first()).toHaveAttribute('d', /^M[\d.]+,[\d.]+(L[\d.]+,[\d.]+){15}$/); // 16 levels drawn (a flat line has no height to be "visible")
  }
  await expect(page.getByTestId('longpi-placement').locator('tbody tr')).toHaveCount(2);
  const instance = page.getByTestId('longpi-instance');
  await expect(instance.locator('.longpi-row')).toHaveCount(160);
  await expect(instance.locator('.longpi-row.relevant')).toHaveCount(10);
  await expect(instance.getByText('relative level 2')).toBeVisible();

  await page.getByTestId('longpi-level').fill('16');
  await page.getByTestId('longpi-new').click();
  await expect(instance.getByText('relative level 16')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('longpi-answer-full/levels')).toBeVisible();
  await page.screenshot({ path: 'test-results/screenshots/longpibench.png', fullPage: true });

  await page.getByTestId('longpi-level').fill('17');
  await page.getByTestId('longpi-new').click();
  await expect(page.getByTestId('longpi-ask').getByRole('alert')).toContainText('level in 1..16');
  const width = await page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);
  expect(width).toBeLessThanOrEqual(0);

  // An endpoint nothing listens on: its instances are named as failed and the run still finishes with the built-in curves.
  await page.getByText('Parameters', { exact: true }).click();
  await field(page, 'endpointUrl').locator('input').fill('http://127.0.0.1:9');
  await field(page, 'endpointModel').locator('input').fill('llama');
  await field(page, 'userL').locator('input').fill('12');
  await field(page, 'userPerLevel').locator('input').fill('1');
  await page.getByTestId('run').click();
  const failed = page.getByTestId('longpi-placement').locator('tbody tr', { hasText: 'endpoint:llama@http://127.0.0.1:9' });
  await expect(failed).toHaveCount(2, { timeout: 110_000 }); // table and timeline, once the run is done
  await expect(failed.first()).toContainText('35: endpoint http://127.0.0.1:9/v1/completions: unreachable');
  await page.screenshot({ path: 'test-results/screenshots/longpibench-dead-endpoint.png', fullPage: true });
  expect(errors).toEqual([]);
});
