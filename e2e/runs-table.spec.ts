// The runs table: sort by a column, search, open a run from the keyboard, delete a run
// after a confirmation.
import { expect, test } from '@playwright/test';
import { openLab } from './open-lab';

test('runs table: sort, search, keyboard, delete with confirmation', async ({ page }) => {
  const errors = await openLab(page, 'reference-classifier', 'Reference classifier');
  const rows = page.locator('tr[data-status]');
  await expect(rows.nth(1)).toBeVisible(); // earlier specs left several runs
  const total = await rows.count();
  // Sort by seed, both ways.
  await page.getByTestId('sort-seed').click();
  const seeds = async () => (await rows.locator('td:nth-child(5)').allInnerTexts()).map(Number);
  const asc = await seeds();
  expect(asc).toEqual([...asc].sort((a, b) => a - b));
  await page.getByTestId('sort-seed').click();
  const desc = await seeds();
  expect(desc).toEqual([...desc].sort((a, b) => b - a));
  // Search narrows the list; a search that matches nothing says so by count.
  await page.getByTestId('runs-search').fill('cli');
  await expect(rows).toHaveCount(1); // the live spec's CLI run
  await page.getByTestId('runs-search').fill('');
  await expect(rows).toHaveCount(total);
  // Keyboard: focus a row, Enter opens it.
  await rows.nth(2).focus();
  await page.keyboard.press('Enter');
  await expect(rows.nth(2)).toHaveClass(/active/);
  // Delete asks first; Keep keeps; Delete removes the run.
  const victim = rows.filter({ hasText: 'cancelled' }).first();
  const id = (await victim.locator('td:nth-child(2) .mono').innerText()).trim();
  await victim.getByTestId('delete').click();
  await victim.getByRole('button', { name: 'Keep' }).click();
  await expect(rows).toHaveCount(total);
  await victim.getByTestId('delete').click();
  await page.screenshot({ path: 'test-results/screenshots/runs-table-delete.png' });
  await victim.getByTestId('delete-yes').click();
  await expect(rows).toHaveCount(total - 1);
  await expect(page.locator('tr[data-status]', { hasText: id })).toHaveCount(0);
  expect(errors).toEqual([]);
});
