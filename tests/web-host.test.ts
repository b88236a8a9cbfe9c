// The browser host binds loopback only and refuses requests without the launch token or
// from a foreign Origin/Host, over HTTP and WebSocket.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { request } from 'node:http';
import { mkdtempSync, mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { MAX_MESSAGE_BYTES, startWebHost, tokenCookieName, type WebHost } from '../cli/web-host';
import { closeCode, frame, OPCODE, rawHandshake, sendAndWaitClose } from './helpers/raw-websocket';
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
  const outside = mkdtempSync(join(tmpdir(), 'bt-outside-'));
  writeFileSync(join(outside, 'secret.txt'), 'the secret');
  symlinkSync(join(outside, 'secret.txt'), join(dir, 'assets', 'link.txt'));
  symlinkSync(outside, join(dir, 'linkdir'));
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
    const cookie = tokenCookieName(host.port);
    expect(cookie).toBe(`benchtop_token_${host.port}`); // one name per port: two hosts never log each other out
    expect(String(r.headers['set-cookie'])).toMatch(new RegExp(`${cookie}=secret-token-123; HttpOnly; SameSite=Strict`));
    expect(r.headers['content-security-policy']).toMatch(/default-src 'self'/);
    expect((await get('/assets/a.js', { cookie: `${cookie}=secret-token-123` })).status).toBe(200);
    expect((await get('/assets/a.js', { cookie: `${cookie}=wrong` })).status).toBe(403);
    // Another host's cookie, beside ours, is neither needed nor harmful.
    expect((await get('/assets/a.js', { cookie: `benchtop_token_1=other; ${cookie}=secret-token-123` })).status).toBe(200);
    expect((await get('/assets/a.js', { cookie: 'benchtop_token_1=secret-token-123' })).status).toBe(403);
  });
  it('refuses a foreign Origin and a foreign Host even with the token', async () => {
    expect((await get('/?token=secret-token-123', { origin: 'http://evil.example' })).status).toBe(403);
    expect((await get('/?token=secret-token-123', { host: 'evil.example' })).status).toBe(403);
  });
  it('answers a malformed URL escape with 400 and keeps serving', async () => {
    expect((await get('/%E0%A4%A?token=secret-token-123')).status).toBe(400);
    expect((await get('/?token=secret-token-123')).status).toBe(200);
  });
  it('does not serve files outside the renderer folder, through `..` or a symlink placed inside it', async () => {
    const r = await get('/..%2f..%2fetc%2fpasswd?token=secret-token-123');
    expect(r.body).not.toMatch(/root:/);
    for (const path of ['/assets/link.txt', '/linkdir/secret.txt']) {
      const l = await get(`${path}?token=secret-token-123`);
      expect(l.status, path).toBe(404);
      expect(l.body).not.toMatch(/the secret/);
    }
  });

  it('survives any client: malformed messages get an error answer, protocol violations close only that socket', async () => {
    const origin = `http://127.0.0.1:${host.port}`;
    const open = async () => (await ws('?token=secret-token-123', { origin })) as WebSocket;
    const reply = (sock: WebSocket, data: string | Buffer, binary = false) => new Promise<Record<string, unknown>>((resolve) => {
      sock.once('message', (d) => resolve(JSON.parse(String(d))));
      sock.send(data, { binary });
    });
    const stillServes = async () => {
      const s = await open();
      expect(await reply(s, JSON.stringify({ id: 7, method: 'hostInfo', args: [] }))).toEqual({ kind: 'result', id: 7, result: { host: 'web', version: 't', home: '/tmp' } });
      s.close();
    };
    const sock = await open();
    const answered: [string, RegExp][] = [
      ['null', /bad message: message: .*expected \{id, method, args\}/],
      ['[]', /bad message/], ['"x"', /bad message/], ['42', /bad message/],
      ['{"id":"1","method":"listLabs","args":[]}', /bad message: id:/],
      ['{"id":1,"method":"listLabs","args":"x"}', /bad message: args:/],
      ['{"id":1,"method":"listLabs","args":[],"extra":1}', /bad message/],
      ['{"id":1,"method":"__proto__","args":[]}', /unknown method "__proto__"/],
      ['{"id":1,"method":"constructor","args":[]}', /unknown method "constructor"/],
      ['{"id":1,"method":"listLabs","args":[],"__proto__":{"polluted":true}}', /bad message/],
      ['{"id":-1,"method":"listLabs","args":[]}', /bad message: id:/],
    ];
    for (const [text, pattern] of answered) expect(String((await reply(sock, text)).error), text).toMatch(pattern);
    expect(String((await reply(sock, Buffer.from('{"id":1}'), true)).error)).toMatch(/binary messages are not accepted/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
    sock.close();
    await stillServes();

    const violations: [string, Buffer, number][] = [
      ['over 8 MiB', frame(OPCODE.text, Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x20)), 1009],
      ['invalid UTF-8', frame(OPCODE.text, Buffer.from([0x7b, 0xff, 0xfe, 0x7d])), 1007],
      ['bad close code', frame(OPCODE.close, Buffer.from([0x03, 0xe7])), 1002],
      ['unmasked frame', frame(OPCODE.text, Buffer.from('{"id":1,"method":"listLabs","args":[]}'), false), 1002],
      ['reserved opcode', frame(0x3, Buffer.from('x')), 1002],
    ];
    for (const [what, bytes, code] of violations) {
      const raw = await rawHandshake(host.port, '/api?token=secret-token-123', { Origin: origin });
      const { closed, received } = await sendAndWaitClose(raw, bytes);
      expect(closed, what).toBe(true);
      expect(closeCode(received), what).toBe(code);
      await stillServes();
    }
    // Half a frame, then the client vanishes.
    const raw = await rawHandshake(host.port, '/api?token=secret-token-123', { Origin: origin });
    raw.write(frame(OPCODE.text, Buffer.from('{"id":1,"method":"listLabs"')).subarray(0, 9));
    raw.destroy();
    await stillServes();
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
