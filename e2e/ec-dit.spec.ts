// The ec-dit panel: a smoke run (tiny judge), the quality table and sample grids, the
// routing heatmaps of the run's first sampling batch (sliders, per-expert view, hover),
// then a generated batch for chosen classes, EC beside token choice.
import { expect, test } from '@playwright/test';
import { openLab } from './open-lab';

test('ec-dit: smoke run, quality table, routing heatmaps, generate', async ({ page }) => {
  const errors = await openLab(page, 'ec-dit', 'Expert-choice diffusion transformer');
  await page.getByTestId('preset').selectOption('smoke');
  await page.getByTestId('seed').fill('43');
  await page.getByTestId('run').click();
  await expect(page.getByTestId('summary')).toBeVisible({ timeout: 110_000 });
  await expect(page.getByTestId('quality-table')).toContainText('token choice top-2');
  await expect(page.getByTestId('routing-canvas-ec')).toBeVisible();
  await expect(page.getByTestId('routing-canvas-tc')).toBeVisible();
  await expect(page.getByTestId('spearman-ec')).toBeVisible();

  // Step back to the first step, then look at one expert's patches.
  await page.getByTestId('step-slider').fill('0');
  await page.getByTestId('expert-view').selectOption('1');
  const canvas = page.getByTestId('routing-canvas-ec');
  await canvas.scrollIntoViewIfNeeded();
  const box = (await canvas.boundingBox())!;
  await page.mouse.move(box.x + 40, box.y + 40);
  await expect(page.getByTestId('hover-probs')).toContainText('router probabilities e0');

  await page.getByLabel('0', { exact: true }).uncheck();
  await page.getByTestId('generate').click();
  await expect(page.getByTestId('generate')).toHaveText('Generate a batch', { timeout: 30_000 });
  await expect(page.getByTestId('load-ec')).toContainText('expert 0');
  await page.getByTestId('expert-view').selectOption('count');
  await page.screenshot({ path: 'test-results/screenshots/ec-dit-finished.png', fullPage: true });
  expect(errors).toEqual([]);
});
