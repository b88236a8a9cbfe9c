// A run started from the CLI beside the open app appears in it without a reload, moves,
// and finishes there (the host watches the shared store every second).
import { expect, test } from '@playwright/test';
import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { openLab } from './open-lab';
import { E2E_HOME } from '../playwright.config';

test('a CLI run appears live in the open app and finishes there', async ({ page }) => {
  const errors = await openLab(page, 'reference-classifier', 'Reference classifier');
  const cli = spawn(process.execPath, [join(__dirname, '..', 'bin', 'benchtop.js'), 'run', 'reference-classifier', '--preset', 'smoke', '--seed', '88', '--set', 'epochs=2'],
    { env: { ...process.env, BENCHTOP_HOME: E2E_HOME }, stdio: 'ignore' });
  const exited = new Promise<number | null>((r) => cli.on('close', r));
  const row = page.locator('tr', { hasText: 'cli' }).filter({ hasText: '88' });
  await expect(row).toBeVisible({ timeout: 30_000 }); // no reload
  await row.click();
  await expect(page.getByTestId('progress')).toContainText(/phase 1 of 1|succeeded/);
  expect(await exited).toBe(0);
  await expect(row).toContainText('succeeded', { timeout: 10_000 });
  await expect(page.getByTestId('summary')).toBeVisible({ timeout: 10_000 });
  await page.screenshot({ path: 'test-results/screenshots/live-cli-run.png', fullPage: true });
  expect(errors).toEqual([]);
});
