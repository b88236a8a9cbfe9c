// The on-device LM panel: a smoke run, NLL against bits with the entropy floor, the bit
// allocation grids, a group's palette, the playground streaming tokens in onnxruntime and
// TensorFlow.js, export into a folder (an occupied one refused); a mistyped text file path
// fails its run with a message naming the file.
import { mkdtempSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect, test } from '@playwright/test';
import { openLab, paramField as field } from './open-lab';
import { E2E_HOME } from '../playwright.config';

test('afm-ondevice: smoke run, NLL vs bits, allocation, playground in both engines, export', async ({ page }) => {
  const errors = await openLab(page, 'afm-ondevice', 'On-device LM recipe (Apple Foundation Models)');
  await page.getByTestId('preset').selectOption('smoke');
  await page.getByTestId('seed').fill('29');
  await page.getByTestId('run').click();
  await expect(page.getByTestId('summary')).toBeVisible({ timeout: 110_000 });
  await expect(page.getByTestId('afm-variants').locator('tbody tr')).toHaveCount(7); // 4 variants, random placement, teacher, scratch
  await expect(page.getByTestId('afm-nll-bits').locator('.recharts-scatter-symbol').first()).toBeVisible();
  await expect(page.getByTestId('afm-nll-bits')).toContainText('entropy floor');
  await expect(page.getByTestId('afm-alloc-plan').locator('tbody tr')).toHaveCount(2);
  await expect(page.getByTestId('afm-groups').locator('svg')).toHaveCount(2);
  await expect(page.getByTestId('afm-generations').locator('tbody tr')).toHaveCount(3);

  await page.getByTestId('afm-prompt').fill('once upon a time there was a');
  await page.getByTestId('afm-generate').click();
  await expect(page.getByTestId('afm-stats')).toContainText('tokens/s', { timeout: 30_000 });
  const viaOrt = await page.getByTestId('afm-output').locator('b').textContent();
  expect(viaOrt?.length).toBeGreaterThan(0);
  await page.getByTestId('afm-engine').selectOption('tfjs');
  await page.getByTestId('afm-generate').click();
  await expect(page.getByTestId('afm-stats')).toContainText('tokens/s', { timeout: 30_000 });
  await expect(page.getByTestId('afm-output').locator('b')).toHaveText(viaOrt!); // greedy: both engines alike
  await page.getByTestId('afm-temperature').fill('0.8');
  await page.getByTestId('afm-prompt').fill('');
  await page.getByTestId('afm-generate').click();
  await expect(page.getByTestId('afm-playground').getByRole('alert')).toContainText('type a prompt first');
  await page.screenshot({ path: 'test-results/screenshots/afm-ondevice.png', fullPage: true });

  const dir = mkdtempSync(join(E2E_HOME, 'export-'));
  writeFileSync(join(dir, 'keep.txt'), 'mine');
  await page.getByTestId('afm-export-folder').fill(dir);
  await page.getByTestId('afm-export-go').click();
  await expect(page.getByTestId('afm-export').getByRole('alert')).toContainText('is not empty');
  await page.getByTestId('afm-export-folder').fill(join(dir, 'mixed-lora'));
  await page.getByTestId('afm-export-go').click();
  await expect(page.getByTestId('afm-export-done')).toContainText('onnx/model.onnx');
  await expect(page.getByTestId('afm-export-done')).toContainText('lora/adapter_model.safetensors');

  // A mistyped path: the run fails and says which file.
  await page.getByText('Parameters', { exact: true }).click();
  await field(page, 'textFile').locator('input').fill('/no/such/stories.txt');
  await page.getByTestId('run').click();
  await expect(page.locator('pre.error')).toHaveText('text file /no/such/stories.txt does not exist', { timeout: 60_000 }); // the message, no stack
  await page.screenshot({ path: 'test-results/screenshots/afm-ondevice-bad-file.png', fullPage: true });
  expect(errors).toEqual([]);
});
