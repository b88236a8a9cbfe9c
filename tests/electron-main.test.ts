// The Electron main process without the Electron binary: its decisions as pure functions
// over the real URLs (Node's URL, whose origin for app:// is "null"), then the built
// out/main/index.js wired to a stand-in `electron` module, driven with the URL the window
// really loads.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createRequire } from 'node:module';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { APP_ENTRY_URL, appRequestFile, isAppUrl, isExternalPaperLink, isTrustedSender, mayNavigate } from '../electron/main/policy';
import { API_METHOD_NAMES } from '../common/api-methods';
import { API_METHODS } from '../common/api';
import { RunStore } from '../workers/jobs/run-store';
import { dbPath } from '../workers/runtime/paths';
import { createElectronStandIn, FakeFrame, FakeWebContents, installElectronStandIn } from './helpers/electron-stand-in';

const out = join(__dirname, '..', 'out');
const REFUSED = ['app://evil/', 'app://evil/index.html', 'app://benchtop.evil/index.html', 'app://benchtop:8080/index.html', 'app://user@benchtop/index.html',
  'file:///etc/passwd', 'about:blank', 'data:text/html,<script>1</script>', 'https://benchtop/', 'https://arxiv.org/abs/1', 'javascript:alert(1)', '', 'not a url'];

describe('main-process policy (pure, over URL strings)', () => {
  it('the entry URL is ours although its URL.origin is "null"', () => {
    expect(new URL(APP_ENTRY_URL).origin).toBe('null'); // why origin comparisons refused every call
    expect(isAppUrl(APP_ENTRY_URL)).toBe(true);
    expect(isAppUrl('app://benchtop/assets/index-abc.js')).toBe(true);
    for (const url of REFUSED) expect(isAppUrl(url), url).toBe(false);
  });
  it('trusts only the main window\'s top frame on app://benchtop', () => {
    expect(isTrustedSender({ fromMainWindow: true, fromMainFrame: true, frameUrl: APP_ENTRY_URL })).toBe(true);
    expect(isTrustedSender({ fromMainWindow: true, fromMainFrame: false, frameUrl: APP_ENTRY_URL })).toBe(false);
    expect(isTrustedSender({ fromMainWindow: false, fromMainFrame: true, frameUrl: APP_ENTRY_URL })).toBe(false);
    expect(isTrustedSender({ fromMainWindow: true, fromMainFrame: true, frameUrl: undefined })).toBe(false);
    for (const url of REFUSED) expect(isTrustedSender({ fromMainWindow: true, fromMainFrame: true, frameUrl: url }), url).toBe(false);
  });
  it('navigation stays in the app; only arxiv.org https links go to the system browser', () => {
    expect(mayNavigate('app://benchtop/index.html#lab=ec-dit')).toBe(true);
    for (const url of REFUSED) expect(mayNavigate(url), url).toBe(false);
    expect(isExternalPaperLink('https://arxiv.org/abs/2410.02098')).toBe(true);
    for (const url of ['http://arxiv.org/abs/1', 'https://arxiv.org.evil.com/', 'https://evil.com/?arxiv.org', 'https://arxiv.org@evil.com/', 'file:///x']) expect(isExternalPaperLink(url), url).toBe(false);
  });
  it('app:// requests read only real files inside the renderer folder', () => {
    const root = mkdtempSync(join(tmpdir(), 'bt-renderer-'));
    const outside = mkdtempSync(join(tmpdir(), 'bt-outside-'));
    writeFileSync(join(root, 'index.html'), '<!doctype html>');
    writeFileSync(join(outside, 'secret.txt'), 'secret');
    symlinkSync(join(outside, 'secret.txt'), join(root, 'link.txt'));
    expect(appRequestFile(root, 'app://benchtop/index.html')).toBe(join(root, 'index.html'));
    expect(appRequestFile(root, 'app://benchtop/')).toBe(join(root, 'index.html'));
    for (const path of ['link.txt', '..%2f..%2fetc%2fpasswd', '%2e%2e/%2e%2e/etc/passwd', 'missing.js', '%E0%A4%A', 'index.html%00.js']) {
      expect(appRequestFile(root, `app://benchtop/${path}`), path).toBeUndefined();
    }
    expect(appRequestFile(root, 'app://evil/index.html')).toBeUndefined();
    rmSync(root, { recursive: true }); rmSync(outside, { recursive: true });
  });
});

describe('the API method table', () => {
  it('names the same methods as the validators the hosts use', () => {
    expect(Object.keys(API_METHODS).sort()).toEqual([...API_METHOD_NAMES].sort());
  });
});

describe('built main process under a stand-in electron module', () => {
  const standIn = createElectronStandIn();
  const home = mkdtempSync(join(tmpdir(), 'bt-electron-'));
  const call = (e: unknown, method: unknown, args: unknown[] = []) => standIn.ipcHandlers.get('benchtop:call')!(e, method, args);
  let win: InstanceType<typeof standIn.electron.BrowserWindow>;
  const eventFrom = (sender: FakeWebContents, frame: FakeFrame) => ({ sender, senderFrame: frame });

  beforeAll(async () => {
    process.env.BENCHTOP_HOME = home;
    installElectronStandIn(standIn);
    createRequire(__filename)(join(out, 'main', 'index.js'));
    standIn.app.readyGate!();
    for (let i = 0; i < 200 && standIn.windows[0]?.loadedUrls.length !== 1; i++) await new Promise((r) => setTimeout(r, 25));
    win = standIn.windows[0];
  });
  afterAll(async () => {
    standIn.app.quit();
    await new Promise((r) => setTimeout(r, 200));
  });

  it('registers app:// as a standard secure scheme and loads the entry URL in a sandboxed, isolated window', () => {
    expect(standIn.privileged.map((p) => p.scheme)).toEqual(['app']);
    expect(win.loadedUrls).toEqual([APP_ENTRY_URL]);
    expect(win.options.webPreferences).toMatchObject({ contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true });
  });

  it('answers the API from the window\'s top frame at the URL it loaded', async () => {
    const info = await call(eventFrom(win.webContents, win.webContents.mainFrame), 'hostInfo') as { host: string; home: string };
    expect(info).toEqual({ host: 'electron', version: '0.0.0-stand-in', home });
    const labs = await call(eventFrom(win.webContents, win.webContents.mainFrame), 'listLabs') as { id: string }[];
    expect(labs.map((l) => l.id)).toContain('ec-dit');
    await expect(call(eventFrom(win.webContents, win.webContents.mainFrame), 'getRun', ['../etc'])).rejects.toThrow(/bad arguments to getRun/);
    await expect(call(eventFrom(win.webContents, win.webContents.mainFrame), 'constructor')).rejects.toThrow(/unknown method "constructor"/);
    await expect(call(eventFrom(win.webContents, win.webContents.mainFrame), 42)).rejects.toThrow(/method must be a string/);
  });

  it('opens a run\'s folder in the file manager (shell.openPath), and names a missing run', async () => {
    const runDir = mkdtempSync(join(home, 'runs-'));
    const store = new RunStore(dbPath(home));
    store.createRun({ id: 'folder-run-1', lab: 'reference-classifier', preset: 'smoke', seed: 1, params: {}, host: 'cli', runDir });
    store.close();
    const top = () => eventFrom(win.webContents, win.webContents.mainFrame);
    expect(await call(top(), 'openRunFolder', ['folder-run-1'])).toEqual({ path: runDir });
    expect(standIn.opened).toContain(`folder:${runDir}`);
    await expect(call(top(), 'openRunFolder', ['nosuchrun-000000'])).rejects.toThrow(/no run nosuchrun-000000/);
    standIn.opened.splice(0);
  });

  it('refuses a subframe, another webContents and a top frame showing another URL', async () => {
    await expect(call(eventFrom(win.webContents, new FakeFrame(APP_ENTRY_URL)), 'hostInfo')).rejects.toThrow(/untrusted frame/);
    const other = new FakeWebContents();
    other.mainFrame.url = APP_ENTRY_URL;
    await expect(call(eventFrom(other, other.mainFrame), 'hostInfo')).rejects.toThrow(/untrusted frame/);
    const before = win.webContents.mainFrame.url;
    for (const url of ['app://evil/index.html', 'file:///etc/passwd', 'about:blank', 'https://arxiv.org/']) {
      win.webContents.mainFrame.url = url;
      await expect(call(eventFrom(win.webContents, win.webContents.mainFrame), 'hostInfo'), url).rejects.toThrow(/untrusted frame/);
    }
    win.webContents.mainFrame.url = before;
  });

  it('blocks navigation and redirects away from the app, denies new windows, opens only paper links outside', () => {
    expect(win.webContents.tryNavigate('will-navigate', 'app://benchtop/index.html#lab=cot-dpo')).toBe(false);
    for (const url of ['https://evil.example/', 'file:///etc/passwd', 'app://evil/', 'data:text/html,x']) {
      expect(win.webContents.tryNavigate('will-navigate', url), url).toBe(true);
      expect(win.webContents.tryNavigate('will-redirect', url), url).toBe(true);
    }
    expect(win.webContents.windowOpenHandler!({ url: 'https://arxiv.org/abs/2401.08920' })).toEqual({ action: 'deny' });
    expect(win.webContents.windowOpenHandler!({ url: 'https://evil.example/' })).toEqual({ action: 'deny' });
    expect(standIn.opened).toEqual(['https://arxiv.org/abs/2401.08920']);
    let attached = true;
    win.webContents.emit('will-attach-webview', { preventDefault: () => { attached = false; } });
    expect(attached).toBe(false);
  });

  it('serves the built renderer over app:// with a CSP, and nothing outside it', async () => {
    const handler = standIn.protocolHandlers.get('app')!;
    const index = await handler(new Request(APP_ENTRY_URL));
    expect(index.status).toBe(200);
    expect(index.headers.get('content-security-policy')).toMatch(/default-src 'self'/);
    expect(await index.text()).toMatch(/<div id="root">/);
    for (const url of ['app://benchtop/..%2f..%2fpackage.json', 'app://benchtop/%2e%2e/main/index.js', 'app://evil/index.html', 'app://benchtop/nope.js']) {
      expect((await handler(new Request(url))).status, url).toBe(404);
    }
  });

  it('the preload exposes window.benchtop with exactly the method table, each call one IPC invoke', async () => {
    createRequire(__filename)(join(out, 'preload', 'index.js'));
    expect(Object.keys(standIn.exposed)).toEqual(['benchtop']);
    const api = standIn.exposed.benchtop as Record<string, (...a: unknown[]) => unknown>;
    expect(Object.keys(api).sort()).toEqual([...API_METHOD_NAMES, 'onRunUpdate'].sort());
    expect(await api.getRun('run-123456')).toBe('answer');
    expect(standIn.invoked).toEqual([['benchtop:call', 'getRun', ['run-123456']]]);
    const seen: unknown[] = [];
    const off = api.onRunUpdate((u: unknown) => seen.push(u)) as () => void;
    standIn.rendererListeners.emit('benchtop:update', {}, { runId: 'r' });
    off();
    standIn.rendererListeners.emit('benchtop:update', {}, { runId: 's' });
    expect(seen).toEqual([{ runId: 'r' }]);
  });

  it('denies every permission request and check', () => {
    let granted: boolean | undefined;
    standIn.permission.request!(win.webContents, 'media', (ok) => { granted = ok; });
    expect(granted).toBe(false);
    expect(standIn.permission.check!(win.webContents, 'notifications')).toBe(false);
  });
});
