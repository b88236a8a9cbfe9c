// Every spec's first steps: open the app with the launch token, go to a lab, and collect
// uncaught page errors (a spec ends by expecting none).
import { expect, type Page } from '@playwright/test';
import { E2E_TOKEN } from '../playwright.config';

export async function openLab(page: Page, labId: string, heading: string): Promise<string[]> {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  await page.goto(`/?token=${E2E_TOKEN}`);
  await page.getByTestId(`lab-${labId}`).click();
  await expect(page.getByRole('heading', { name: heading })).toBeVisible();
  return errors;
}

/** A field of the params form, by its param name. */
export const paramField = (page: Page, name: string) => page.locator(`label.field[data-field="${name}"]`);

/** Draws a "1" (one vertical stroke) on the first draw pad of the page. */
export async function drawOne(page: Page): Promise<void> {
  const pad = page.getByTestId('drawpad').first();
  await pad.scrollIntoViewIfNeeded();
  const box = (await pad.boundingBox())!;
  await page.mouse.move(box.x + box.width / 2, box.y + 20);
  await page.mouse.down();
  for (let y = 20; y <= box.height - 20; y += 6) await page.mouse.move(box.x + box.width / 2, box.y + y);
  await page.mouse.up();
}
