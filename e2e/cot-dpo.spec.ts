// The cot-dpo chain inspector: a smoke run (which trains the tiny judge on first use), the
// variants table (with the first DPO round's row), each round's pair counts, DPO curves, the
// pairs, K chains for a held-out question and for digits drawn on the pads; a wrong
// operation/digit count is refused with a message.
import { expect, test, type Page } from '@playwright/test';
import { openLab } from './open-lab';

async function drawOne(page: Page, pad: number) {
  // Mouse coordinates are the viewport's: bring the pad into view first.
  await page.getByTestId('drawpad').nth(pad).scrollIntoViewIfNeeded();
  const box = (await page.getByTestId('drawpad').nth(pad).boundingBox())!;
  await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * 0.15);
  await page.mouse.down();
  for (let i = 1; i <= 10; i++) await page.mouse.move(box.x + box.width * 0.5, box.y + box.height * (0.15 + 0.07 * i));
  await page.mouse.up();
}

test('cot-dpo: smoke run, variants table, chain inspector on a held-out and a drawn question', async ({ page }) => {
  const errors = await openLab(page, 'cot-dpo', 'Chain-of-thought SFT and DPO');
  await page.getByTestId('preset').selectOption('smoke');
  await page.getByTestId('seed').fill('41');
  await page.getByTestId('run').click();
  await expect(page.locator('.progress .status-running')).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('variants-table')).toContainText('SFT direct only', { timeout: 110_000 });
  await page.screenshot({ path: 'test-results/screenshots/cot-dpo-running.png' });
  await expect(page.getByTestId('summary')).toBeVisible({ timeout: 110_000 });
  await expect(page.getByTestId('variants-table')).toContainText('best-of-N by DPO reward');
  // The smoke preset runs two on-policy rounds: the first round's model has its own row.
  await expect(page.getByTestId('variants-table')).toContainText('+ DPO, round 1 (the paper\'s one round)');
  await expect(page.getByTestId('variants-table')).toContainText('+ DPO, 2 rounds');
  await expect(page.getByTestId('pair-stats')).toHaveCount(2);
  await expect(page.getByTestId('pair-stats').nth(1)).toContainText('round 2 of 2');
  await expect(page.getByTestId('question-image')).toBeVisible();

  await page.getByTestId('question-picker').selectOption('3');
  await page.getByTestId('inspect').click();
  await expect(page.getByTestId('chains').locator('tbody tr')).toHaveCount(8, { timeout: 30_000 });
  await expect(page.getByTestId('chains')).toContainText('greedy, DPO CoT prompt');

  await page.getByLabel('draw your own digits').check();
  await page.getByTestId('inspect').click();
  await expect(page.locator('.panel-cotdpo .error')).toContainText('draw 2 digits first');
  await drawOne(page, 0);
  await drawOne(page, 1);
  await page.getByTestId('inspect').click();
  await expect(page.getByTestId('chains')).toContainText('judge\'s reading of your digits', { timeout: 30_000 });
  await page.screenshot({ path: 'test-results/screenshots/cot-dpo-finished.png', fullPage: true });
  expect(errors).toEqual([]);
});
