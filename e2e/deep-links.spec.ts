// The URL names the lab and the run shown; Back and Forward step through what was opened,
// and a link opens the same view.
import { expect, test } from '@playwright/test';
import { E2E_TOKEN } from '../playwright.config';

test('deep links: the URL follows the run shown, Back returns, a link opens it', async ({ page, context }) => {
  await page.goto(`/?token=${E2E_TOKEN}`);
  await page.getByTestId('lab-reference-classifier').click();
  const rows = page.locator('tr[data-status]');
  await expect(rows.nth(1)).toBeVisible(); // earlier specs left at least two runs here
  const first = (await rows.nth(0).locator('td:nth-child(2) .mono').innerText()).trim();
  const second = (await rows.nth(1).locator('td:nth-child(2) .mono').innerText()).trim();
  await expect(page).toHaveURL(new RegExp(`#lab=reference-classifier&run=${first}$`));
  await rows.nth(1).click();
  await expect(page).toHaveURL(new RegExp(`run=${second}$`));
  await expect(rows.nth(1)).toHaveClass(/active/);
  await page.getByTestId('lab-ec-dit').click();
  await expect(page).toHaveURL(/#lab=ec-dit/);
  await page.goBack();
  await expect(page).toHaveURL(new RegExp(`#lab=reference-classifier&run=${second}$`));
  await expect(page.getByRole('heading', { name: 'Reference classifier' })).toBeVisible();
  await expect(rows.nth(1)).toHaveClass(/active/);
  await page.goBack();
  await expect(page).toHaveURL(new RegExp(`run=${first}$`));
  await expect(rows.nth(0)).toHaveClass(/active/);
  await page.goForward();
  await expect(rows.nth(1)).toHaveClass(/active/);
  // A link to a run opens it in a new page (the token is in the cookie).
  const other = await context.newPage();
  await other.goto(`/#lab=reference-classifier&run=${second}`);
  await expect(other.getByRole('heading', { name: 'Reference classifier' })).toBeVisible();
  await expect(other.locator('tr[data-status].active')).toContainText(second);
  await other.goto(`/#lab=reference-classifier&run=nosuchrun-0000`);
  await expect(other.getByTestId('no-such-run')).toContainText('nosuchrun-0000');
});
