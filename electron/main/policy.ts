// The main process's security decisions as pure functions over URL strings, so they are
// tested with Node's own URL (no Electron binary needed). Never compare `URL.origin`: for a
// custom scheme such as app:// Node gives the origin "null", which matches nothing.
import { realFileInside } from '../../workers/runtime/paths';

export const APP_SCHEME = 'app';
export const APP_HOST = 'benchtop';
export const APP_ENTRY_URL = `${APP_SCHEME}://${APP_HOST}/index.html`;

function parse(url: string): URL | undefined {
  try { return new URL(url); } catch { return undefined; }
}

/** True only for app://benchtop/… with no port or credentials. */
export function isAppUrl(url: string): boolean {
  const u = parse(url);
  return !!u && u.protocol === `${APP_SCHEME}:` && u.hostname === APP_HOST && u.port === '' && u.username === '' && u.password === '';
}

export interface SenderFacts {
  /** The call came from our one window's webContents (not another window, webview or devtools). */
  fromMainWindow: boolean;
  /** The calling frame is that webContents' top frame (not an iframe). */
  fromMainFrame: boolean;
  /** The calling frame's URL, as Electron reports it. */
  frameUrl: string | undefined;
}

/** Only our own top frame, loaded from our own protocol, may call the API. */
export function isTrustedSender(s: SenderFacts): boolean {
  return s.fromMainWindow && s.fromMainFrame && s.frameUrl !== undefined && isAppUrl(s.frameUrl);
}

/** In-window navigation stays inside the app; everything else is blocked. */
export function mayNavigate(url: string): boolean { return isAppUrl(url); }

/** Links the window may hand to the system browser (paper pages); every other window.open is denied. */
export function isExternalPaperLink(url: string): boolean {
  const u = parse(url);
  return !!u && u.protocol === 'https:' && u.hostname === 'arxiv.org' && u.port === '' && u.username === '';
}

/**
 * The file an app:// request may read: inside the renderer folder after resolving every
 * symlink, or undefined (not ours, a malformed escape, outside, or missing).
 */
export function appRequestFile(rendererRoot: string, requestUrl: string): string | undefined {
  if (!isAppUrl(requestUrl)) return undefined;
  let path: string;
  try { path = decodeURIComponent(new URL(requestUrl).pathname); } catch { return undefined; }
  return realFileInside(rendererRoot, path === '/' ? 'index.html' : path);
}
