// The activation-codec panel: a smoke run (which trains the tiny cached codec on first use),
// its figures, and the user's own image — a wrong file is refused by name.
import { expect, test } from '@playwright/test';
import { join } from 'node:path';
import { openLab } from './open-lab';
import { solidPng } from './solid-png';

test('activation-codec: smoke run, panel figures, your own image', async ({ page }) => {
  const errors = await openLab(page, 'activation-codec', 'Activation compression');
  await page.getByTestId('preset').selectOption('smoke');
  await page.getByTestId('seed').fill('31');
  await page.getByTestId('run').click();
  await expect(page.locator('.progress .status-running')).toBeVisible({ timeout: 30_000 });
  await page.screenshot({ path: 'test-results/screenshots/activation-codec-running.png' });
  await expect(page.getByTestId('summary')).toBeVisible({ timeout: 110_000 });
  await expect(page.getByTestId('bandwidth-reduction')).toContainText('×');
  await expect(page.locator('.kv', { hasText: 'decodesBitExact' })).toContainText('pass');
  await expect(page.locator('.panel-actcodec .recharts-bar-rectangle').first()).toBeVisible();
  await expect(page.getByTestId('image-strip').first()).toBeVisible();

  // A file that is not an image gets a clear message; the app keeps working.
  const input = page.getByTestId('image-input');
  await input.setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('not an image') });
  await expect(page.getByRole('alert')).toContainText('notes.txt is not a PNG or JPEG image');
  await input.setInputFiles({ name: 'broken.png', mimeType: 'image/png', buffer: Buffer.from('definitely not png bytes') });
  await expect(page.getByRole('alert')).toContainText('broken.png could not be decoded');
  await input.setInputFiles(join(__dirname, '..', 'assets', 'samples', 'digit-7-on-paper.png'));
  await expect(page.getByTestId('my-image')).toContainText('inverted (light background)', { timeout: 20_000 });
  await page.screenshot({ path: 'test-results/screenshots/activation-codec-finished.png', fullPage: true });
  // All-black and all-white images: a PSNR of +∞ reads as such; the app never goes blank.
  for (const [name, grey] of [['black.png', 0], ['white.png', 255]] as const) {
    await input.setInputFiles({ name, mimeType: 'image/png', buffer: solidPng(28, 28, grey) });
    await expect(page.getByTestId('my-image')).toContainText(/PSNR (∞ \(identical\)|\d+\.\d\d dB) with float activations/, { timeout: 20_000 });
    await expect(page.getByTestId('bandwidth-reduction')).toBeVisible();
  }
  await page.screenshot({ path: 'test-results/screenshots/activation-codec-black-white.png', fullPage: true });
  expect(errors).toEqual([]);
});
