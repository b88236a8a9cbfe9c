// A panel that cannot draw a run's data shows what failed and a way back; the rest of the
// app keeps working. The run is written to the host's store by this process (as a CLI run
// of an older version might have left it): its summary lacks the figures the panel reads.
import { expect, test } from '@playwright/test';
import { join } from 'node:path';
import { E2E_HOME, E2E_TOKEN } from '../playwright.config';
import { RunStore } from '../workers/jobs/run-store';
import { dbPath } from '../workers/runtime/paths';

test('a panel error is contained: message, Try again, the app still works', async ({ page }) => {
  const errors: string[] = [];
  page.on('pageerror', (e) => errors.push(e.message));
  const store = new RunStore(dbPath(E2E_HOME));
  const id = `20990101000000-badbad`;
  store.createRun({ id, lab: 'activation-codec', preset: 'smoke', seed: 77, params: { batchSize: 4, bitDepth: 8 }, host: 'cli', runDir: join(E2E_HOME, 'runs', id) });
  store.appendEvents(id, [{ type: 'sample', kind: 'energy', data: { pjPerBit: 'not a number' } }]);
  store.setStatus(id, 'succeeded', { summary: { metrics: { psnrDb: Infinity }, checks: {} } });
  store.close();

  await page.goto(`/?token=${E2E_TOKEN}`);
  await page.getByTestId('lab-activation-codec').click();
  await page.getByRole('row', { name: new RegExp(id) }).click();
  const err = page.getByTestId('view-error');
  await expect(err).toContainText('The activation-codec panel could not be drawn');
  await expect(page.getByTestId('summary')).toContainText('∞'); // the summary beside it still reads
  await expect(page.getByRole('heading', { name: 'Runs' })).toBeVisible();
  await page.screenshot({ path: 'test-results/screenshots/panel-error.png', fullPage: true });
  await err.getByRole('button', { name: 'Try again' }).click();
  await expect(page.getByTestId('view-error')).toBeVisible(); // same data, same error, still contained
  await page.getByTestId('lab-reference-classifier').click();
  await expect(page.getByRole('heading', { name: 'Reference classifier' })).toBeVisible();
  expect(errors).toEqual([]);
});
