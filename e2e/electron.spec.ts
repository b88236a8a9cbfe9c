// The Electron window itself, where the Electron binary exists. On machines that cannot
// download it (ours), this spec skips and says why; everything else is covered through the
// browser host in app.spec.ts.
import { _electron as electron, expect, test } from '@playwright/test';
import { join } from 'node:path';
// eslint-disable-next-line @typescript-eslint/no-require-imports
const { electronBinary } = require('../scripts/electron-binary.cjs') as { electronBinary(): string | undefined };

const binary = electronBinary();

test('Electron window opens the app with the API exposed and nothing else', async () => {
  test.skip(!binary, 'Electron binary not installed (its download is impossible offline); the browser-host e2e covers the renderer');
  const app = await electron.launch({ executablePath: binary!, args: [join(__dirname, '..', 'out', 'main', 'index.js'), '--no-sandbox'], env: { ...process.env, BENCHTOP_HOME: join(__dirname, '..', 'test-results', 'electron-home') } });
  const win = await app.firstWindow();
  await expect(win.getByText('Benchtop')).toBeVisible();
  expect(await win.evaluate(() => typeof (window as unknown as { require?: unknown }).require)).toBe('undefined');
  expect(await win.evaluate(() => Object.keys((window as unknown as { benchtop: object }).benchtop).sort())).toContain('startRun');
  await win.screenshot({ path: 'test-results/screenshots/electron.png' });
  await app.close();
});
