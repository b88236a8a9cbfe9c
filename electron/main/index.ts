// Electron main process: window, security policy, validated IPC -> JobService.
// Runs only where the Electron binary exists; everything else is exercised through the
// browser host, which serves the same renderer and the same API handlers.
import { app, BrowserWindow, ipcMain, protocol, net, session, shell, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RunStore } from '../../workers/jobs/run-store';
import { JobService } from '../../workers/jobs/job-service';
import { createHandlers, dispatch } from '../../workers/jobs/api-handlers';
import { benchtopHome, builtOutDir, dbPath } from '../../workers/runtime/paths';
import { queueFromEnv } from '../../workers/queue/address';
import { QueueCoordinator } from '../../workers/queue/queue-coordinator';
import { APP_ENTRY_URL, APP_SCHEME, appRequestFile, isExternalPaperLink, isTrustedSender, mayNavigate } from './policy';

const outDir = builtOutDir() ?? resolve(__dirname, '..');
const rendererRoot = join(outDir, 'renderer');
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

protocol.registerSchemesAsPrivileged([{ scheme: APP_SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

let mainWindow: BrowserWindow | undefined;

function trustedSender(e: IpcMainInvokeEvent): boolean {
  const frame = e.senderFrame;
  return isTrustedSender({
    fromMainWindow: !!mainWindow && e.sender === mainWindow.webContents,
    fromMainFrame: !!frame && frame === e.sender.mainFrame,
    frameUrl: frame?.url,
  });
}

async function createWindow(): Promise<void> {
  mainWindow = new BrowserWindow({
    width: 1360, height: 900, show: false, title: 'Benchtop',
    webPreferences: { preload: join(outDir, 'preload', 'index.js'), contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true },
  });
  mainWindow.once('ready-to-show', () => mainWindow?.show());
  await mainWindow.loadURL(APP_ENTRY_URL);
}

function lockDown(contents: WebContents): void {
  contents.setWindowOpenHandler(({ url }) => {
    if (isExternalPaperLink(url)) void shell.openExternal(url); // paper links open in the system browser
    return { action: 'deny' };
  });
  contents.on('will-navigate', (e, url) => { if (!mayNavigate(url)) e.preventDefault(); });
  contents.on('will-redirect', (e, url) => { if (!mayNavigate(url)) e.preventDefault(); });
  contents.on('will-attach-webview', (e) => e.preventDefault());
}

app.whenReady().then(async () => {
  const home = benchtopHome();
  app.setPath('userData', home);
  protocol.handle(APP_SCHEME, async (req) => {
    const file = appRequestFile(rendererRoot, req.url);
    if (!file) return new Response('not found', { status: 404 });
    const res = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(res.headers);
    headers.set('Content-Security-Policy', CSP);
    return new Response(res.body, { status: res.status, headers });
  });
  // No camera, microphone, notifications, … ever: deny both the request and the check.
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
  session.defaultSession.setPermissionCheckHandler(() => false);
  app.on('web-contents-created', (_e, contents) => lockDown(contents));

  const store = new RunStore(dbPath(home));
  // BENCHTOP_QUEUE=redis://… sends the app's sweeps to queue workers (README: sweeps on several machines).
  const queue = queueFromEnv((m) => console.error(m));
  const remote = queue ? new QueueCoordinator(queue, { coordinator: `electron pid ${process.pid}` }) : undefined;
  const jobs = new JobService({ store, home, workerPath: join(outDir, 'main', 'lab-worker.js'), host: 'electron', remote });
  // shell.openPath resolves to an error message, or '' when the folder opened.
  const handlers = createHandlers(jobs, store, { host: 'electron', version: app.getVersion(), home }, { openFolder: (path) => shell.openPath(path) });
  ipcMain.handle('benchtop:call', async (e, method: unknown, args: unknown) => {
    if (!trustedSender(e)) throw new Error('refused: IPC from an untrusted frame');
    if (typeof method !== 'string') throw new Error('refused: method must be a string');
    return dispatch(handlers, method, args);
  });
  jobs.onUpdate((u) => { if (mainWindow && !mainWindow.isDestroyed()) mainWindow.webContents.send('benchtop:update', u); });
  app.on('before-quit', () => { void jobs.shutdown().then(() => store.close()); });
  await createWindow();
});

app.on('window-all-closed', () => app.quit());
