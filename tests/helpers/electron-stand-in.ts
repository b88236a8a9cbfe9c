// A stand-in for the `electron` module, for testing the built main process where the
// Electron binary cannot be installed. It models only what out/main/index.js touches, and
// records every decision the main process hands to Electron (handlers, listeners, URLs).
import { EventEmitter } from 'node:events';
import { readFileSync } from 'node:fs';
import Module, { createRequire } from 'node:module';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export class FakeFrame { constructor(public url: string) {} }

export class FakeWebContents extends EventEmitter {
  mainFrame = new FakeFrame('about:blank');
  sent: [string, unknown][] = [];
  windowOpenHandler?: (d: { url: string }) => { action: string };
  setWindowOpenHandler(h: (d: { url: string }) => { action: string }) { this.windowOpenHandler = h; }
  send(channel: string, payload: unknown) { this.sent.push([channel, payload]); }
  /** Emits a navigation event as Electron would; true when the main process blocked it. */
  tryNavigate(event: 'will-navigate' | 'will-redirect', url: string): boolean {
    let prevented = false;
    this.emit(event, { preventDefault: () => { prevented = true; } }, url);
    return prevented;
  }
}

export function createElectronStandIn() {
  const app = Object.assign(new EventEmitter(), {
    paths: {} as Record<string, string>,
    readyGate: undefined as undefined | (() => void),
    whenReady(): Promise<void> { return new Promise((r) => { app.readyGate = r; }); },
    setPath(name: string, value: string) { app.paths[name] = value; },
    getVersion: () => '0.0.0-stand-in',
    quit() { app.emit('before-quit'); },
  });
  const windows: FakeWindow[] = [];
  class FakeWindow extends EventEmitter {
    webContents = new FakeWebContents();
    loadedUrls: string[] = [];
    constructor(public options: Record<string, unknown>) {
      super();
      windows.push(this);
      app.emit('web-contents-created', {}, this.webContents);
    }
    async loadURL(url: string) { this.loadedUrls.push(url); this.webContents.mainFrame.url = url; this.emit('ready-to-show'); }
    show() {}
    isDestroyed() { return false; }
  }
  const ipcHandlers = new Map<string, (e: unknown, ...args: unknown[]) => Promise<unknown>>();
  const protocolHandlers = new Map<string, (req: Request) => Promise<Response>>();
  const privileged: { scheme: string }[] = [];
  const permission = { request: undefined as undefined | ((wc: unknown, p: string, cb: (ok: boolean) => void) => void), check: undefined as undefined | ((...a: unknown[]) => boolean) };
  const opened: string[] = [];
  // The preload's side: what it exposes to the page, and the IPC it sends.
  const exposed: Record<string, unknown> = {};
  const invoked: [string, ...unknown[]][] = [];
  const rendererListeners = new EventEmitter();
  const electron = {
    contextBridge: { exposeInMainWorld(key: string, api: unknown) { exposed[key] = api; } },
    ipcRenderer: {
      invoke: async (channel: string, ...args: unknown[]) => { invoked.push([channel, ...args]); return 'answer'; },
      on: (channel: string, fn: (...a: unknown[]) => void) => rendererListeners.on(channel, fn),
      removeListener: (channel: string, fn: (...a: unknown[]) => void) => rendererListeners.removeListener(channel, fn),
    },
    app,
    BrowserWindow: FakeWindow,
    ipcMain: { handle(channel: string, fn: (e: unknown, ...args: unknown[]) => Promise<unknown>) { ipcHandlers.set(channel, fn); } },
    protocol: {
      registerSchemesAsPrivileged(list: { scheme: string }[]) { privileged.push(...list); },
      handle(scheme: string, fn: (req: Request) => Promise<Response>) { protocolHandlers.set(scheme, fn); },
    },
    // Electron's net.fetch reads file: URLs; Node's fetch does not, so read the file here.
    net: { fetch: async (url: string) => new Response(readFileSync(fileURLToPath(url))) },
    session: {
      defaultSession: {
        setPermissionRequestHandler(h: typeof permission.request) { permission.request = h; },
        setPermissionCheckHandler(h: typeof permission.check) { permission.check = h; },
      },
    },
    shell: { openExternal: async (url: string) => { opened.push(url); }, openPath: async (path: string) => { opened.push(`folder:${path}`); return ''; } },
  };
  return { electron, app, windows, ipcHandlers, protocolHandlers, privileged, permission, opened, exposed, invoked, rendererListeners, FakeWebContents };
}

/**
 * Makes the bundle's require of the electron package return the stand-in in this process (the built
 * bundle keeps it external). The electron package itself need not be installed (it lives in
 * the desktop toolchain's own install), so the name is resolved here, to a cache entry.
 */
export function installElectronStandIn(standIn: ReturnType<typeof createElectronStandIn>): void {
  const req = createRequire(__filename);
  const id = join(__dirname, 'electron-stand-in.virtual.js');
  req.cache[id] = { id, filename: id, loaded: true, exports: standIn.electron } as NodeJS.Module;
  const moduleInternals = Module as unknown as { _resolveFilename: (request: string, ...rest: unknown[]) => string };
  const resolve = moduleInternals._resolveFilename;
  moduleInternals._resolveFilename = (request, ...rest) => (request === 'electron' ? id : resolve(request, ...rest));
}
