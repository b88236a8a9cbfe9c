// The egocentric video QA panel: a smoke run, the MDA table, the clip player (play, step
// with the keyboard, scrub), the narration timeline and glimpse curve, the kept frames,
// a question of one's own, and the data engine on an uploaded narration file — a wrong
// file gets a message naming the problem.
import { expect, test } from '@playwright/test';
import { openLab } from './open-lab';

const NARRATIONS = JSON.stringify({
  kitchen: { narration_pass_1: { narrations: [
    { timestamp_sec: 1, narration_text: '#C C opens the drawer' }, { timestamp_sec: 3, narration_text: '#C C picks up the cup from the drawer' },
    { timestamp_sec: 5, narration_text: '#C C walks to the desk' }, { timestamp_sec: 7, narration_text: '#C C puts the cup on the desk' },
    { timestamp_sec: 9, narration_text: '#C C picks up the key from the desk' }, { timestamp_sec: 11, narration_text: '#C C puts the key on the shelf' },
    { timestamp_sec: 13, narration_text: '#C C picks up the bag from the sink' }, { timestamp_sec: 15, narration_text: '#C C puts the bag on the counter' },
    { timestamp_sec: 17, narration_text: '#C C picks up the coat from the fridge' }, { timestamp_sec: 19, narration_text: '#C C puts the coat in the drawer' },
  ] } },
});

test('mm-ego: smoke run, MDA table, clip player, own question, narrations upload', async ({ page }) => {
  const errors = await openLab(page, 'mm-ego', 'Egocentric video QA (MM-Ego)');
  await page.getByTestId('preset').selectOption('smoke');
  await page.getByTestId('seed').fill('43');
  await page.getByTestId('run').click();
  await expect(page.getByTestId('summary')).toBeVisible({ timeout: 110_000 });
  await expect(page.getByTestId('mda-table').locator('tbody tr')).toHaveCount(4);
  await expect(page.getByTestId('mda-table')).toContainText('long');
  await expect(page.getByTestId('ego-dataset')).toContainText('test questions');

  const player = page.getByTestId('ego-player');
  await expect(player.locator('canvas').first()).toBeVisible({ timeout: 30_000 });
  await expect(page.getByTestId('ego-narrations').locator('li').first()).toContainText('#C C');
  await expect(page.getByTestId('ego-scores').locator('polyline')).toHaveCount(1);
  await expect(page.getByTestId('ego-kept').locator('canvas')).toHaveCount(4);
  await player.focus();
  await page.keyboard.press('ArrowRight');
  await page.keyboard.press('ArrowRight');
  await expect(player).toContainText('frame 2 of');
  await page.keyboard.press('ArrowLeft');
  await expect(player).toContainText('frame 1 of');
  await page.keyboard.press(' ');
  await expect(page.getByTestId('ego-play')).toHaveText('Pause');
  await page.keyboard.press(' ');
  await expect(page.getByTestId('ego-play')).toHaveText('Play');
  await page.screenshot({ path: 'test-results/screenshots/mm-ego-player.png', fullPage: true });

  await page.getByTestId('ego-ask-kind').selectOption('count-open');
  await page.getByTestId('ego-ask-subject').selectOption('fridge');
  await page.getByTestId('ego-ask').click();
  await expect(page.getByTestId('ego-asked')).toContainText('how many times did i open the fridge ?', { timeout: 30_000 });

  await page.getByTestId('ego-upload').setInputFiles({ name: 'notes.txt', mimeType: 'text/plain', buffer: Buffer.from('these are not narrations') });
  await expect(page.getByTestId('ego-upload-error')).toContainText('notes.txt: narration file: not JSON');
  await page.getByTestId('ego-upload').setInputFiles({ name: 'kitchen.json', mimeType: 'application/json', buffer: Buffer.from(NARRATIONS) });
  await expect(page.getByTestId('ego-written')).toContainText('kitchen:');
  await expect(page.getByTestId('ego-written')).toContainText('where did i leave the cup ?');
  await page.screenshot({ path: 'test-results/screenshots/mm-ego-finished.png', fullPage: true });
  expect(errors).toEqual([]);
});
