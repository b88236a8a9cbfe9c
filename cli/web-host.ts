// The browser host: the built renderer over HTTP and BenchtopApi over a WebSocket, on
// 127.0.0.1 only. A per-launch token (from the printed URL, then an HttpOnly SameSite
// cookie) and an Origin/Host check guard every request: another site open in the same
// browser, or another user's process guessing the port, gets a 403.
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { randomBytes, timingSafeEqual } from 'node:crypto';
import { existsSync, readFileSync, statSync } from 'node:fs';
import { extname, join, resolve } from 'node:path';
import { WebSocketServer, type RawData, type WebSocket } from 'ws';
import { z } from 'zod';
import type { RunUpdate } from '../common/api';
import { parseJson, stringifyJson } from '../common/json';
import { dispatch, type Handlers } from '../workers/jobs/api-handlers';
import { realFileInside } from '../workers/runtime/paths';

const MIME: Record<string, string> = {
  '.html': 'text/html; charset=utf-8', '.js': 'text/javascript; charset=utf-8', '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml', '.png': 'image/png', '.json': 'application/json', '.wasm': 'application/wasm', '.ico': 'image/x-icon',
};
/** Largest WebSocket message a client may send; a larger frame closes the socket with 1009 (Message Too Big). */
export const MAX_MESSAGE_BYTES = 8 * 2 ** 20;
/** What a client sends: one API call. */
const callMessage = z.object({ id: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER), method: z.string().min(1).max(64), args: z.array(z.unknown()).max(16).default([]) }).strict();
const CSP = "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data: blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; frame-ancestors 'none'";

export interface WebHost { url: string; port: number; token: string; server: Server; close(): Promise<void> }

export interface WebHostOptions {
  handlers: Handlers;
  subscribe(listener: (u: RunUpdate) => void): () => void;
  rendererDir: string;
  port?: number;
  token?: string;
}

/** One cookie per port, so two hosts on one machine do not log each other out. */
export const tokenCookieName = (port: number) => `benchtop_token_${port}`;

function tokenFrom(req: IncomingMessage, cookieName: string): string | undefined {
  const url = new URL(req.url ?? '/', 'http://x');
  const q = url.searchParams.get('token');
  if (q) return q;
  const cookie = req.headers.cookie?.split(';').map((c) => c.trim()).find((c) => c.startsWith(`${cookieName}=`));
  return cookie?.slice(cookieName.length + 1);
}

function same(a: string | undefined, b: string): boolean {
  if (!a || a.length !== b.length) return false;
  return timingSafeEqual(Buffer.from(a), Buffer.from(b));
}

export async function startWebHost(opts: WebHostOptions): Promise<WebHost> {
  const token = opts.token ?? randomBytes(24).toString('base64url');
  const rendererDir = resolve(opts.rendererDir);
  if (!existsSync(join(rendererDir, 'index.html'))) throw new Error(`no built renderer at ${rendererDir} (run npm run build)`);
  let port = opts.port ?? 0;
  const allowedHosts = () => [`127.0.0.1:${port}`, `localhost:${port}`];
  const allowedOrigins = () => allowedHosts().map((h) => `http://${h}`);

  /** Why a request is refused, or undefined when it may pass. */
  const refuse = (req: IncomingMessage, needOrigin: boolean): string | undefined => {
    if (!allowedHosts().includes(req.headers.host ?? '')) return 'foreign Host header';
    const origin = req.headers.origin;
    if (origin !== undefined && !allowedOrigins().includes(origin)) return 'foreign Origin';
    if (needOrigin && origin === undefined) return 'missing Origin';
    if (!same(tokenFrom(req, tokenCookieName(port)), token)) return 'missing or wrong token: open the URL that `benchtop web` printed';
    return undefined;
  };

  const server = createServer((req, res) => {
    const why = refuse(req, false);
    if (why) { res.writeHead(403, { 'content-type': 'text/plain' }); res.end(`403 refused: ${why}\n`); return; }
    if (req.method !== 'GET' && req.method !== 'HEAD') { res.writeHead(405); res.end(); return; }
    const url = new URL(req.url ?? '/', 'http://x');
    let path: string;
    try { path = decodeURIComponent(url.pathname); } catch {
      // A malformed %-escape must not take the host down with it.
      res.writeHead(400, { 'content-type': 'text/plain' }); res.end('400: malformed URL escape\n'); return;
    }
    // Only real files inside the renderer folder: no `..`, no symlink pointing out of it.
    let file = realFileInside(rendererDir, path);
    if (file && statSync(file).isDirectory()) file = undefined;
    if (!file) {
      if (extname(path)) { res.writeHead(404, { 'content-type': 'text/plain' }); res.end('404: not found\n'); return; }
      file = join(rendererDir, 'index.html'); // SPA routes
    }
    const headers: Record<string, string> = {
      'content-type': MIME[extname(file)] ?? 'application/octet-stream', 'content-security-policy': CSP,
      'x-content-type-options': 'nosniff', 'referrer-policy': 'no-referrer', 'cache-control': 'no-store',
    };
    if (url.searchParams.get('token')) headers['set-cookie'] = `${tokenCookieName(port)}=${token}; HttpOnly; SameSite=Strict; Path=/`;
    res.writeHead(200, headers);
    res.end(req.method === 'HEAD' ? undefined : readFileSync(file));
  });

  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_MESSAGE_BYTES });
  server.on('upgrade', (req, socket, head) => {
    socket.on('error', () => socket.destroy()); // a reset mid-handshake ends that socket only
    const why = refuse(req, true);
    if (why || new URL(req.url ?? '/', 'http://x').pathname !== '/api') {
      socket.end(`HTTP/1.1 403 Forbidden\r\ncontent-type: text/plain\r\n\r\n403 refused: ${why ?? 'not the API path'}\n`);
      return;
    }
    wss.handleUpgrade(req, socket, head, (ws) => serveSocket(ws));
  });

  /** One client. Nothing it sends (bad frames, bad JSON, bad calls) may reach past its own socket. */
  function serveSocket(ws: WebSocket) {
    const send = (msg: unknown) => { if (ws.readyState === ws.OPEN) ws.send(stringifyJson(msg), () => { /* closed meanwhile */ }); };
    const unsubscribe = opts.subscribe((update) => send({ kind: 'update', update }));
    ws.on('close', unsubscribe);
    // Protocol errors (oversize, invalid UTF-8, a bad close code, an unmasked frame): ws has
    // already closed the socket with the right code; without this listener it would throw.
    ws.on('error', () => { unsubscribe(); ws.terminate(); });
    ws.on('message', (raw: RawData, isBinary: boolean) => {
      void answer(raw, isBinary).catch(() => { /* send failed: the socket is gone */ });
    });
    async function answer(raw: RawData, isBinary: boolean): Promise<void> {
      if (isBinary) { send({ kind: 'error', error: 'binary messages are not accepted: send a JSON text message {id, method, args}' }); return; }
      let msg: unknown;
      try { msg = parseJson(String(raw)); } catch (err) {
        send({ kind: 'error', error: err instanceof SyntaxError ? 'message is not JSON' : 'message is nested too deeply to read' });
        return;
      }
      const call = callMessage.safeParse(msg);
      if (!call.success) {
        const id = typeof (msg as { id?: unknown } | null)?.id === 'number' ? (msg as { id: number }).id : null;
        const issue = call.error.issues[0];
        send({ kind: 'result', id, error: `bad message: ${issue.path.join('.') || 'message'}: ${issue.message} (expected {id, method, args})` });
        return;
      }
      const { id, method, args } = call.data;
      try {
        const result = await dispatch(opts.handlers, method, args);
        send({ kind: 'result', id, result: result === undefined ? null : result });
      } catch (err) {
        send({ kind: 'result', id, error: (err as Error).message });
      }
    }
  }

  await new Promise<void>((resolvePromise, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolvePromise());
  });
  port = (server.address() as { port: number }).port;
  const url = `http://127.0.0.1:${port}/?token=${token}`;
  return {
    url, port, token, server,
    close: () => new Promise((r) => { for (const c of wss.clients) c.terminate(); wss.close(); server.close(() => r()); server.closeAllConnections(); }),
  };
}
