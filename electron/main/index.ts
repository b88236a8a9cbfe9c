// Electron main process: window, security policy, validated IPC -> JobService.
// Runs only where the Electron binary exists; everything else is exercised through the
// browser host, which serves the same renderer and the same API handlers.
import { app, BrowserWindow, ipcMain, protocol, net, session, shell, type IpcMainInvokeEvent, type WebContents } from 'electron';
import { join, resolve, sep } from 'node:path';
import { pathToFileURL } from 'node:url';
import { RunStore } from '../../workers/jobs/run-store';
import { JobService } from '../../workers/jobs/job-service';
import { createHandlers, dispatch } from '../../workers/jobs/api-handlers';
import { benchtopHome, dbPath } from '../../workers/runtime/paths';

const SCHEME = 'app';
const ORIGIN = `${SCHEME}://benchtop`;
const rendererRoot = resolve(join(__dirname, '..', 'renderer'));
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

protocol.registerSchemesAsPrivileged([{ scheme: SCHEME, privileges: { standard: true, secure: true, supportFetchAPI: true } }]);

let mainWindow: BrowserWindow | undefined;

/** Only our own top frame, loaded from our own protocol, may call the API. */
function trustedSender(e: IpcMainInvokeEvent): boolean {
  const frame = e.senderFrame;
  return !!mainWindow && e.sender === mainWindow.webContents && !!frame && frame === e.sender.mainFrame && new URL(frame.url).origin === ORIGIN;
}

async function createWindow(): Promise<void> {
  mainWindow = new BrowserWindow({
    width: 1360, height: 900, show: false, title: 'Benchtop',
    webPreferences: { preload: join(__dirname, '..', 'preload', 'index.js'), contextIsolation: true, sandbox: true, nodeIntegration: false, webSecurity: true },
  });
  mainWindow.once('ready-to-show', () => mainWindow?.show());
  await mainWindow.loadURL(`${ORIGIN}/index.html`);
}

function lockDown(contents: WebContents): void {
  contents.setWindowOpenHandler(({ url }) => {
    if (/^https:\/\/arxiv\.org\//.test(url)) void shell.openExternal(url); // paper links open in the system browser
    return { action: 'deny' };
  });
  contents.on('will-navigate', (e, url) => { if (new URL(url).origin !== ORIGIN) e.preventDefault(); });
  contents.on('will-attach-webview', (e) => e.preventDefault());
}

app.whenReady().then(async () => {
  const home = benchtopHome();
  app.setPath('userData', home);
  protocol.handle(SCHEME, async (req) => {
    const { pathname } = new URL(req.url);
    const file = resolve(rendererRoot, `.${decodeURIComponent(pathname)}`);
    if (!file.startsWith(rendererRoot + sep)) return new Response('not found', { status: 404 });
    const res = await net.fetch(pathToFileURL(file).toString());
    const headers = new Headers(res.headers);
    headers.set('Content-Security-Policy', CSP);
    return new Response(res.body, { status: res.status, headers });
  });
  session.defaultSession.setPermissionRequestHandler((_wc, _perm, cb) => cb(false));
  app.on('web-contents-created', (_e, contents) => lockDown(contents));

  const store = new RunStore(dbPath(home));
  const jobs = new JobService({ store, home, workerPath: join(__dirname, 'lab-worker.js'), host: 'electron' });
  const handlers = createHandlers(jobs, store, { host: 'electron', version: app.getVersion(), home });
  ipcMain.handle('benchtop:call', async (e, method: unknown, args: unknown) => {
    if (!trustedSender(e)) throw new Error('refused: IPC from an untrusted frame');
    if (typeof method !== 'string') throw new Error('refused: method must be a string');
    return dispatch(handlers, method, args);
  });
  jobs.onUpdate((u) => mainWindow?.webContents.send('benchtop:update', u));
  app.on('before-quit', () => { void jobs.shutdown().then(() => store.close()); });
  await createWindow();
});

app.on('window-all-closed', () => app.quit());
