import { defineConfig } from '@playwright/test';
import { join } from 'node:path';

export const E2E_PORT = Number(process.env.E2E_PORT ?? 4719);
export const E2E_TOKEN = 'e2e-token-not-secret';
/** The browser host's state folder; a spec may add runs to its store (another process, as a CLI run would). */
export const E2E_HOME = join(__dirname, 'test-results', 'e2e-home');
const home = E2E_HOME;

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/e2e',
  timeout: 120_000,
  workers: 1,
  reporter: [['list'], ['json', { outputFile: 'test-results/playwright.json' }]],
  use: {
    browserName: 'chromium',
    headless: !process.env.HEADFUL,
    viewport: { width: 1400, height: 1000 },
    baseURL: `http://127.0.0.1:${E2E_PORT}`,
    screenshot: 'only-on-failure',
    launchOptions: {
      // Debian's Chromium; never a downloaded browser.
      executablePath: process.env.CHROMIUM_PATH || '/usr/bin/chromium',
      args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run', '--disable-quic'],
    },
  },
  webServer: {
    command: `rm -rf "${home}" && node bin/benchtop.js web --port ${E2E_PORT}`,
    url: `http://127.0.0.1:${E2E_PORT}/?token=${E2E_TOKEN}`,
    env: { BENCHTOP_HOME: home, BENCHTOP_WEB_TOKEN: E2E_TOKEN },
    reuseExistingServer: false,
    timeout: 60_000,
  },
});
