// The idempotent-codec panel (the codec comparison): a smoke run (tiny cached codecs, prior
// and judge), its RD and FD curves, the rates table, the side-by-side grid and its
// re-compression, results JSON loaded and refused, and the user's own image decoded both ways.
import { expect, test } from '@playwright/test';
import { join } from 'node:path';
import { openLab } from './open-lab';

test('idempotent-codec: smoke run, codec comparison, grid, re-compress, your own image, results JSON', async ({ page }) => {
  test.setTimeout(240_000);
  const errors = await openLab(page, 'idempotent-codec', 'Idempotent perceptual decoding');
  await page.getByTestId('preset').selectOption('smoke');
  await page.getByTestId('seed').fill('41');
  await page.getByTestId('run').click();
  await expect(page.getByTestId('summary')).toBeVisible({ timeout: 200_000 });
  await expect(page.getByTestId('idem-rates').locator('tbody tr')).toHaveCount(2);
  await expect(page.getByTestId('rd-psnr').locator('.recharts-scatter-symbol').first()).toBeVisible();
  for (const name of ['MSE decode x̄', 'perceptual decode', 'JPEG (mozjpeg)', 'WebP', 'AVIF']) {
    await expect(page.getByTestId('rd-fd').locator('.recharts-legend-item-text', { hasText: name })).toHaveCount(1);
  }
  await expect(page.locator('.kv', { hasText: 'fdImproves' })).toContainText('not judged on smoke');

  // Curves in CompressAI's shape join the charts; a file in another shape is refused by name.
  const results = page.getByTestId('results-input');
  await results.setInputFiles({ name: 'jpeg.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ name: 'JPEG (paper)', results: { bpp: [0.3, 0.6, 1.0], psnr: [14, 17, 20] } })) });
  await expect(page.getByTestId('rd-psnr').locator('.recharts-legend-item-text', { hasText: 'JPEG (paper)' })).toHaveCount(1);
  await expect(page.getByTestId('rd-psnr').locator('.recharts-legend-item-text')).toHaveCount(6); // two decoders, three anchors, the loaded curve
  await results.setInputFiles({ name: 'bad.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify({ name: 'x', results: { bpp: [0.1, 0.2], psnr: [10] } })) });
  await expect(page.getByTestId('results-error')).toContainText('bad.json is not in CompressAI\'s results shape: results.bpp and results.psnr must have the same length');
  await results.setInputFiles({ name: 'notjson.json', mimeType: 'application/json', buffer: Buffer.from('{"name": ') });
  await expect(page.getByTestId('results-error')).toContainText('notjson.json is not JSON');

  // The grid at the other rate, then every decode re-compressed.
  await page.getByTestId('grid-rate').selectOption({ index: 0 });
  await page.getByTestId('recompress').click();
  await expect(page.getByTestId('recompress-table').locator('tbody tr')).toHaveCount(3);
  await expect(page.getByTestId('recompress-table')).toContainText(/same bits ✓|differs/);

  // Your own image: the wrong file is named; a real digit decodes both ways and is re-encoded.
  const input = page.getByTestId('idem-image-input');
  await input.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image') });
  await expect(page.getByTestId('idem-error')).toContainText('notes.txt is not a PNG or JPEG image');
  await input.setInputFiles(join(__dirname, '..', 'assets', 'samples', 'digit-7-on-paper.png'));
  await expect(page.getByTestId('idem-decoded')).toContainText(/bytes \(\d\.\d{3} bpp at λ=0\.001\)/, { timeout: 60_000 });
  await expect(page.getByTestId('idem-decoded')).toContainText('inverted (light background)');
  await expect(page.getByTestId('idem-decoded')).toContainText(/Re-encoded: MSE decode (same bits ✓|different bits)/);
  await page.screenshot({ path: 'test-results/screenshots/idempotent-codec-finished.png', fullPage: true });
  expect(errors).toEqual([]);
});
