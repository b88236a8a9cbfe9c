// The positional-bias panel: a smoke run, recall against absolute and relative level (a
// line per model, the paper's points dashed), the placement table, the example instance
// with its relevant rows highlighted and each model's answer; a new instance asked for, and
// a mistyped level answered with a message; an endpoint nothing listens on named per instance.
import { expect, test } from '@playwright/test';
import { openLab } from './open-lab';

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
  // Added through the panel's form: a mistyped row count is named by the lab's schema, then a good one starts the run.
  const add = page.getByTestId('longpi-add-model');
  await add.getByTestId('longpi-add-url').fill('http://127.0.0.1:9');
  await add.getByTestId('longpi-add-go').click();
  await expect(add.getByRole('alert')).toContainText('needs its URL and its model name');
  await add.getByTestId('longpi-add-model-name').fill('llama');
  await add.getByTestId('longpi-add-rows').fill('5');
  await add.getByTestId('longpi-add-go').click();
  await expect(add.getByRole('alert')).toContainText('userL');
  await add.getByTestId('longpi-add-rows').fill('12');
  await add.getByTestId('longpi-add-per-level').fill('1');
  const shown = page.url();
  await add.getByTestId('longpi-add-go').click();
  await expect(page).not.toHaveURL(shown); // the new run is opened
  const failed = page.getByTestId('longpi-placement').locator('tbody tr', { hasText: 'endpoint:llama@http://127.0.0.1:9' });
  await expect(failed).toHaveCount(2, { timeout: 110_000 }); // table and timeline, once the run is done
  await expect(failed.first()).toContainText('35: endpoint http://127.0.0.1:9/v1/completions: unreachable');
  await page.screenshot({ path: 'test-results/screenshots/longpibench-dead-endpoint.png', fullPage: true });
  expect(errors).toEqual([]);
});
