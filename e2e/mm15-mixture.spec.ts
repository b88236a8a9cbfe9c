// The mixture explorer: a smoke run (tiny cached bases, built on first use), the scores table
// with a row per arm and its token-share bar, held-out predictions with their pictures, the
// explorer's sliders, and a sweep along α_R&G started from it (a typo and an out-of-range value
// refused by name first) whose runs draw a line per category.
import { expect, test } from '@playwright/test';
import { openLab } from './open-lab';

test('mm15-mixture: smoke run, scores per arm and category, predictions, mixture preview', async ({ page }) => {
  test.setTimeout(400_000);
  const errors = await openLab(page, 'mm15-mixture', 'MLLM data mixtures and continual pre-training (MM1.5)');
  await page.getByTestId('preset').selectOption('smoke');
  await page.getByTestId('seed').fill('41');
  await page.getByTestId('run').click();
  await expect(page.getByTestId('summary')).toBeVisible({ timeout: 200_000 });
  await expect(page.getByTestId('mm15-scores').locator('tbody tr')).toHaveCount(5);
  await expect(page.getByTestId('mm15-scores').locator('tbody tr').first().getByRole('img')).toHaveAttribute('aria-label', /general \d+\.\d %/);
  await expect(page.getByTestId('mm15-bases')).toContainText('mm15:cpt:high:50-10-40:tiny');

  // Predictions: a grounding question shows its 56-px picture; a text-only one none.
  const preds = page.getByTestId('mm15-predictions');
  await preds.getByTestId('mm15-category').selectOption('grounding');
  await expect(preds.getByTestId('mm15-prediction').first().locator('canvas')).toHaveCount(1);
  await preds.getByTestId('mm15-category').selectOption('textOnly');
  await expect(preds.getByTestId('mm15-prediction').first()).toContainText('(text only)');

  // The preview: α_R&G to 0 takes grounding out of the shares.
  const preview = page.getByTestId('mm15-preview');
  await expect(preview.getByTestId('mm15-preview-shares')).toContainText('referring & grounding 35.6 %');
  await preview.getByTestId('mm15-slider-alphaGrounding').fill('0');
  await expect(preview.getByTestId('mm15-preview-shares')).toContainText('referring & grounding 0.0 %');
  await page.screenshot({ path: 'test-results/screenshots/mm15-mixture-finished.png', fullPage: true });

  // A sweep along α_R&G from the explorer: a typo and an out-of-range value are named first.
  const values = preview.getByTestId('mm15-sweep-values');
  await values.fill('0, 2x');
  await preview.getByTestId('mm15-sweep').click();
  await expect(preview.getByRole('alert')).toHaveText('alphaGrounding: "2x" is not a number');
  await values.fill('0, 99');
  await preview.getByTestId('mm15-sweep').click();
  await expect(preview.getByRole('alert')).toContainText('alphaGrounding');
  const first = page.url();
  await values.fill('0, 2');
  await preview.getByTestId('mm15-sweep').click();
  await expect.poll(() => page.url()).not.toBe(first);
  const lines = page.getByTestId('mm15-sweep-lines');
  await expect(lines.getByTestId('mm15-sweep-status')).toContainText('2 of 2 runs of the sweep finished', { timeout: 150_000 });
  await expect(lines.locator('.recharts-line')).toHaveCount(6);
  await expect(lines.locator('.recharts-line-dots').first().locator('circle')).toHaveCount(2);
  // A sweep point trains the base arm alone.
  await expect(page.getByTestId('mm15-scores').locator('tbody tr')).toHaveCount(1);
  await page.screenshot({ path: 'test-results/screenshots/mm15-mixture-sweep.png', fullPage: true });
  expect(errors).toEqual([]);
});
