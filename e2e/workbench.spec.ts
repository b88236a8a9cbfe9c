// The workbench around the labs: a sweep from the lab page (three grid runs) compared in one
// table within 4,000 px of height and no horizontal overflow at 1,280 px; a run renamed,
// tagged and annotated, then found by its tag; the dark theme; every lab page from 1,000 to
// 1,920 px wide without overflow; export and import (of a classifier run app.spec.ts left).
import { expect, test, type Page } from '@playwright/test';
import { drawOne, openLab, paramField as field } from './open-lab';
import { solidPng } from './solid-png';

const shots = 'test-results/screenshots';
const overflow = (page: Page) => page.evaluate(() => document.documentElement.scrollWidth - window.innerWidth);

test('a sweep of three grid runs, compared; a run renamed, tagged, annotated and filtered', async ({ page }) => {
  test.setTimeout(300_000);
  await page.setViewportSize({ width: 1280, height: 900 });
  const errors = await openLab(page, 'byz-momentum', 'Byzantine-robust compressed SGD with momentum');
  await page.getByTestId('preset').selectOption('smoke');
  await page.getByText('Parameters', { exact: true }).click();
  await field(page, 'experiment').locator('select').selectOption('grid');
  // A third of smoke's rounds: the comparison needs the grid's configurations (120 metrics), not their accuracy.
  await field(page, 'rounds').locator('input').fill('100');

  // A bad value is named and nothing is queued.
  await page.getByText('Sweep: seeds × one param').click();
  await page.getByTestId('sweep-param').selectOption('kFraction');
  await page.getByTestId('sweep-values').fill('0.01, 2');
  await page.getByTestId('sweep-seeds').fill('5');
  await page.getByTestId('sweep-start').click();
  await expect(page.getByTestId('sweep-form').getByRole('alert')).toContainText('kFraction = 2: at most 1');
  await page.getByTestId('sweep-values').fill('0.01, 0.02, 0.05');
  await expect(page.getByTestId('sweep-start')).toHaveText('Queue 3 runs');
  await page.getByTestId('sweep-start').click();
  const sweep = page.getByTestId('sweep-row').first();
  await expect(sweep).toContainText('sweep of kFraction = 0.01, 0.02, 0.05 × seeds 5');
  await expect(sweep).toContainText('3 of 3 finished', { timeout: 240_000 });
  await page.screenshot({ path: `${shots}/sweep-runs.png`, fullPage: true });

  await sweep.getByTestId('sweep-compare').click();
  const compare = page.getByTestId('compare-view');
  await expect(compare.getByTestId('compare-table').locator('tbody tr')).toHaveCount(3);
  await expect(compare).toContainText('Runs differ in kFraction');
  await expect(compare.getByTestId('compare-table').locator('tbody tr').first()).toContainText('kFraction=');
  // One table, not a chart per final metric: 120 metrics, 4 key columns until more are picked.
  await expect(compare.getByTestId('compare-columns').locator('summary')).toContainText('columns (4 of 120)');
  await compare.getByTestId('compare-columns').locator('summary').click();
  await compare.getByTestId('compare-columns').getByLabel('filter columns').fill('bytes per round');
  await compare.getByTestId('compare-columns').getByLabel('uplink bytes per round · top-k').check();
  await expect(compare.getByTestId('compare-table').locator('thead th')).toHaveCount(3 + 1 + 5);
  // Sort by a metric column, both ways.
  await compare.getByTestId('compare-sort-acc_ef21sgdm_alie_cwtm').click();
  const col = async () => compare.getByTestId('compare-table').locator('tbody tr td:nth-child(5)').allInnerTexts();
  const desc = (await col()).map(parseFloat);
  expect(desc).toEqual([...desc].sort((a, b) => b - a));
  const box = (await compare.boundingBox())!;
  expect(box.height).toBeLessThan(4000);
  expect(await overflow(page)).toBeLessThanOrEqual(0);
  await page.screenshot({ path: `${shots}/compare-three-grid-runs.png`, fullPage: true });
  await compare.getByRole('button', { name: 'Close' }).click();

  // Rename, tag and annotate one run; find it by its tag and by its note.
  const rows = page.locator('tr[data-status]');
  const first = rows.first();
  await first.getByTestId('edit').click();
  await page.getByTestId('edit-name').fill('grid, k = 1 %');
  await page.getByTestId('edit-tags').fill('baseline, grid');
  await page.getByTestId('edit-note').fill('first look at the whole grid');
  await page.getByTestId('edit-save').click();
  await expect(rows.first()).toContainText('grid, k = 1 %');
  await expect(rows.first().locator('.tag')).toHaveText(['baseline', 'grid']);
  await page.getByTestId('filter-tag').selectOption('baseline');
  await expect(rows).toHaveCount(1);
  await page.getByTestId('filter-tag').selectOption('');
  await page.getByTestId('runs-search').fill('whole grid');
  await expect(rows).toHaveCount(1);
  await page.getByTestId('runs-search').fill('');
  await page.getByTestId('filter-status').selectOption('succeeded');
  expect(await rows.count()).toBeGreaterThanOrEqual(3);
  expect(errors).toEqual([]);
});

test('dark theme follows the system', async ({ browser }) => {
  const context = await browser.newContext({ colorScheme: 'dark', viewport: { width: 1280, height: 900 } });
  const page = await context.newPage();
  const errors = await openLab(page, 'byz-momentum', 'Byzantine-robust compressed SGD with momentum');
  await page.locator('tr[data-status]').first().click();
  await expect(page.getByTestId('byz-headline')).toBeVisible();
  const bg = await page.evaluate(() => getComputedStyle(document.documentElement).backgroundColor);
  const fg = await page.evaluate(() => getComputedStyle(document.querySelector('.lab-head h1')!).color);
  const lum = (css: string) => { const [r, g, b] = css.match(/\d+/g)!.map(Number); return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255; };
  expect(lum(bg)).toBeLessThan(0.15);
  expect(lum(fg)).toBeGreaterThan(0.8);
  // Heat cells keep their light colours and dark text in either theme.
  const cell = page.locator('.panel-byz table.heat td.num').first();
  if (await cell.count()) expect(lum(await cell.evaluate((e) => getComputedStyle(e).color))).toBeLessThan(0.2);
  await page.screenshot({ path: `${shots}/dark-theme.png`, fullPage: true });
  expect(errors).toEqual([]);
  await context.close();
});

test('every lab page from 1,000 to 1,920 px wide: no horizontal overflow, the width used', async ({ page }) => {
  const errors = await openLab(page, 'reference-classifier', 'Reference classifier');
  const labs = await page.locator('nav.sidebar [data-testid^="lab-"]').evaluateAll((els) => els.map((e) => e.getAttribute('data-testid')!));
  for (const width of [1000, 1280, 1920]) {
    await page.setViewportSize({ width, height: 900 });
    for (const lab of labs) {
      await page.getByTestId(lab).click();
      await expect(page.locator('.lab-head h1')).toBeVisible();
      await page.waitForTimeout(300); // the run view and its panel settle
      expect(await overflow(page), `${lab} at ${width} px`).toBeLessThanOrEqual(0);
    }
    if (width === 1920) expect((await page.locator('main.lab-page').boundingBox())!.width).toBeGreaterThan(1500);
    await page.screenshot({ path: `${shots}/layout-${width}.png` });
  }
  expect(errors).toEqual([]);
});

test('a run exported as one archive imports as a new run whose model answers; a wrong file is named; every lab\'s runs', async ({ page }) => {
  const errors = await openLab(page, 'reference-classifier', 'Reference classifier');
  const rows = page.locator('tr[data-status="succeeded"]');
  await rows.first().click();
  await page.getByTestId('export').click();
  const path = (await page.getByTestId('export-path').locator('code').innerText()).replace(/ \(.*\)$/, '');
  expect(path).toMatch(/\/exports\/.*\.benchtop-run\.tgz$/);
  const before = await page.locator('tr[data-status]').count();

  // The wrong file: a PNG, then an empty file; each named, nothing added.
  await page.getByTestId('import-input').setInputFiles({ name: 'digit.png', mimeType: 'image/png', buffer: solidPng(28, 28, 0) });
  await expect(page.getByTestId('import-error')).toContainText('could not import digit.png: not a Benchtop run archive (.benchtop-run.tgz): it is not gzip data');
  await page.getByTestId('import-input').setInputFiles({ name: 'empty.tgz', mimeType: 'application/gzip', buffer: Buffer.alloc(0) });
  await expect(page.getByTestId('import-error')).toContainText('empty.tgz is empty');
  await expect(page.locator('tr[data-status]')).toHaveCount(before);

  await page.getByTestId('import-input').setInputFiles(path);
  await expect(page.getByTestId('import-done')).toContainText('imported');
  await expect(page.locator('tr[data-status]')).toHaveCount(before + 1);
  await expect(page).toHaveURL(/run=/);
  const imported = page.locator('tr.active');
  await expect(imported.locator('.tag')).toContainText(['imported']);
  await expect(page.getByTestId('confusion-matrix')).toBeVisible();
  // Its model answers: draw a "1".
  await drawOne(page);
  await expect(page.getByTestId('prediction')).toBeVisible({ timeout: 30_000 });
  await page.screenshot({ path: `${shots}/imported-run.png`, fullPage: true });

  // Every lab's runs in one table, filtered by lab; a run of another lab opens on its lab's page.
  await page.getByTestId('all-labs').check();
  await page.getByTestId('filter-lab').selectOption('byz-momentum');
  const byz = page.locator('tr[data-status]');
  await expect(byz.first().locator('.lab-chip')).toHaveText('byz-momentum');
  expect(await byz.locator('.lab-chip').allInnerTexts()).not.toContain('reference-classifier');
  await byz.first().click();
  await expect(page.getByRole('heading', { name: 'Byzantine-robust compressed SGD with momentum' })).toBeVisible();
  await expect(page).toHaveURL(/lab=byz-momentum&run=/);
  expect(errors).toEqual([]);
});
