// The browser host binds loopback only and refuses requests without the launch token or
// from a foreign Origin/Host, over HTTP and WebSocket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startWebHost, type WebHost } from '../cli/web-host';
import type { Handlers } from '../workers/jobs/api-handlers';

let host: WebHost;
const calls: unknown[] = [];
const handlers = {
  listLabs: async () => [{ id: 'x' }],
  listRuns: async (lab?: string) => { calls.push(lab); return []; },
  hostInfo: async () => ({ host: 'web', version: 't', home: '/tmp' }),
} as unknown as Handlers;

function get(path: string, headers: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: host.port, path, headers: { host: `127.0.0.1:${host.port}`, ...headers } }, (res) => {
      let body = '';
      res.on('data', (c) => (body += c));
      res.on('end', () => resolve({ status: res.statusCode!, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

function ws(query: string, headers: Record<string, string>): Promise<WebSocket | Error> {
  return new Promise((resolve) => {
    const s = new WebSocket(`ws://127.0.0.1:${host.port}/api${query}`, { headers });
    s.on('open', () => resolve(s));
    s.on('error', (e) => resolve(e));
    s.on('unexpected-response', (_req, res) => resolve(new Error(`HTTP ${res.statusCode}`)));
  });
}

beforeAll(async () => {
  const dir = mkdtempSync(join(tmpdir(), 'bt-web-'));
  mkdirSync(join(dir, 'assets'));
  writeFileSync(join(dir, 'index.html'), '<!doctype html><title>t</title>');
  writeFileSync(join(dir, 'assets', 'a.js'), 'console.log(1)');
  host = await startWebHost({ handlers, subscribe: () => () => {}, rendererDir: dir, token: 'secret-token-123' });
});
afterAll(() => host.close());

describe('browser host', () => {
  it('binds 127.0.0.1 only', () => {
    expect((host.server.address() as { address: string }).address).toBe('127.0.0.1');
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=secret-token-123$/);
  });
  it('refuses a request without the token', async () => {
    const r = await get('/');
    expect(r.status).toBe(403);
    expect(r.body).toMatch(/token/);
  });
  it('serves with the token, sets an HttpOnly SameSite cookie and a CSP, then accepts the cookie', async () => {
    const r = await get('/?token=secret-token-123');
    expect(r.status).toBe(200);
    expect(String(r.headers['set-cookie'])).toMatch(/benchtop_token=secret-token-123; HttpOnly; SameSite=Strict/);
    expect(r.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect((await get('/assets/a.js', { cookie: 'benchtop_token=secret-token-123' })).status).toBe(200);
    expect((await get('/assets/a.js', { cookie: 'benchtop_token=wrong' })).status).toBe(403);
  });
  it('refuses a foreign Origin and a foreign Host even with the token', async () => {
    expect((await get('/?token=secret-token-123', { origin: 'http://evil.example' })).status).toBe(403);
    expect((await get('/?token=secret-token-123', { host: 'evil.example' })).status).toBe(403);
  });
  it('answers a malformed URL escape with 400 and keeps serving', async () => {
    expect((await get('/%E0%A4%A?token=secret-token-123')).status).toBe(400);
    expect((await get('/?token=secret-token-123')).status).toBe(200);
  });
  it('does not serve files outside the renderer folder', async () => {
    const r = await get('/..%2f..%2fetc%2fpasswd?token=secret-token-123');
    expect(r.body).not.toMatch(/root:/);
  });
  it('WebSocket: refuses missing token, missing or foreign Origin; accepts ours and validates calls', async () => {
    const origin = `http://127.0.0.1:${host.port}`;
    expect(await ws('', { origin })).toBeInstanceOf(Error);
    expect(await ws('?token=secret-token-123', {})).toBeInstanceOf(Error);
    expect(await ws('?token=secret-token-123', { origin: 'http://evil.example' })).toBeInstanceOf(Error);
    const s = await ws('?token=secret-token-123', { origin });
    expect(s).toBeInstanceOf(WebSocket);
    const sock = s as WebSocket;
    const reply = (msg: unknown) => new Promise<Record<string, unknown>>((resolve) => { sock.once('message', (d) => resolve(JSON.parse(String(d)))); sock.send(typeof msg === 'string' ? msg : JSON.stringify(msg)); });
    expect(await reply({ id: 1, method: 'listLabs', args: [] })).toEqual({ kind: 'result', id: 1, result: [{ id: 'x' }] });
    expect((await reply({ id: 2, method: 'rm -rf', args: [] })).error).toMatch(/unknown method/);
    expect((await reply({ id: 3, method: 'listRuns', args: [42] })).error).toMatch(/bad arguments to listRuns/);
    expect((await reply('not json{')).error).toMatch(/not JSON/);
    expect(calls).toEqual([]); // the invalid call never reached the handler
    sock.close();
  });
});
