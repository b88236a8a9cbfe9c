// The cond-perceptual panel (it joins the codec comparison): a smoke run (tiny cached G1s
// and judge), its RD and conditional-FD curves, the rates table, the low rate's grid, the
// Y picker (a different class at the decoder, same bits; new ε draws), and a bad results file.
import { expect, test } from '@playwright/test';
import { openLab } from './open-lab';

test('cond-perceptual: smoke run, codec comparison, grid, Y picker', async ({ page }) => {
  test.setTimeout(240_000);
  const errors = await openLab(page, 'cond-perceptual', 'Conditional perceptual quality codec');
  await page.getByTestId('preset').selectOption('smoke');
  await page.getByTestId('seed').fill('43');
  await page.getByTestId('run').click();
  await expect(page.getByTestId('summary')).toBeVisible({ timeout: 200_000 });
  await expect(page.getByTestId('cond-rates').locator('tbody tr')).toHaveCount(5);
  await expect(page.getByTestId('rd-fd').locator('.recharts-scatter-symbol').first()).toBeVisible();
  for (const name of ['MSE decode x̄ (G1 with Y)', 'G2 · critic with Y · ε', 'G2 · critic without Y · ε', 'G2 · critic with Y · no ε', 'G1, G2 and critic without Y · ε']) {
    await expect(page.getByTestId('rd-fd').locator('.recharts-legend-item-text', { hasText: name })).toHaveCount(1);
  }
  await expect(page.getByTestId('cond-notes')).toContainText(/condFD without ε − with ε = -?\d/);
  await expect(page.getByTestId('cond-grid').getByTestId('image-strip')).toBeVisible();

  // The Y picker: the first image decoded with its own class, then with another; the bits stay.
  const picker = page.getByTestId('y-picker');
  await expect(picker.getByTestId('y-decodes')).toContainText(/\d+ bits for this image/, { timeout: 60_000 });
  const bits = (await picker.getByTestId('y-decodes').textContent())!.match(/(\d+) bits for this image/)![1];
  await picker.getByTestId('y-class').selectOption('3');
  await expect(picker.getByTestId('y-decodes')).toContainText(`${bits} bits for this image`);
  await picker.getByTestId('y-redraw').click();
  await expect(picker.getByTestId('y-decodes')).toContainText(`${bits} bits for this image`);

  const results = page.getByTestId('results-input');
  await results.setInputFiles({ name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from('[1, 2') });
  await expect(page.getByTestId('results-error')).toContainText('bad.json is not JSON');
  await page.screenshot({ path: 'test-results/screenshots/cond-perceptual-finished.png', fullPage: true });
  expect(errors).toEqual([]);
});
