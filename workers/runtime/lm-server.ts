// `benchtop serve-lm`: a text LM (an exported folder on onnxruntime-node) behind the two
// OpenAI routes local tools speak, on 127.0.0.1 only: POST /v1/completions
// ({prompt, max_tokens}) and POST /v1/chat/completions ({messages, max_tokens}; the
// messages' contents joined by new lines), GET /v1/models. Decoding is greedy (temperature
// and top_p are accepted and ignored, as the response's `benchtop.decoding` says).
// Requests are answered one at a time; a malformed request gets a 400 naming the problem
// and the server keeps serving.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { TextLm } from './text-lm';

const MAX_BODY = 1 << 20;
const MAX_TOKENS = 1024;

export interface LmServer { url: string; close(): Promise<void> }

class RequestError extends Error {
  constructor(readonly status: number, message: string) { super(message); }
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_BODY) { reject(new RequestError(413, `request body over ${MAX_BODY} bytes`)); req.destroy(); return; }
      chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

/** The prompt and token budget of a request body, or a RequestError naming what is wrong. */
export function parseLmRequest(route: 'completions' | 'chat', raw: string): { prompt: string; maxTokens: number } {
  let body: unknown;
  try { body = JSON.parse(raw); } catch { throw new RequestError(400, 'the request body is not JSON'); }
  if (!body || typeof body !== 'object' || Array.isArray(body)) throw new RequestError(400, 'the request body must be a JSON object');
  const b = body as Record<string, unknown>;
  const maxTokens = b.max_tokens ?? 16;
  if (!Number.isInteger(maxTokens) || (maxTokens as number) < 1 || (maxTokens as number) > MAX_TOKENS) throw new RequestError(400, `max_tokens must be an integer in 1..${MAX_TOKENS}`);
  if (route === 'completions') {
    if (typeof b.prompt !== 'string') throw new RequestError(400, '"prompt" must be a string');
    return { prompt: b.prompt, maxTokens: maxTokens as number };
  }
  const messages = b.messages;
  if (!Array.isArray(messages) || !messages.length || messages.some((m) => typeof (m as { content?: unknown })?.content !== 'string')) {
    throw new RequestError(400, '"messages" must be a non-empty list of {role, content} with string contents');
  }
  return { prompt: messages.map((m) => (m as { content: string }).content).join('\n'), maxTokens: maxTokens as number };
}

function send(res: ServerResponse, status: number, body: unknown) {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(body));
}

export async function startLmServer(lm: TextLm, modelName: string, port = 0): Promise<LmServer> {
  let queue: Promise<unknown> = Promise.resolve();
  let served = 0;
  const server = createServer((req, res) => {
    void (async () => {
      try {
        const path = (req.url ?? '').split('?')[0];
        if (path === '/v1/models') {
          if (req.method !== 'GET') throw new RequestError(405, 'use GET for /v1/models');
          return send(res, 200, { object: 'list', data: [{ id: modelName, object: 'model', owned_by: 'benchtop' }] });
        }
        const route = path === '/v1/completions' ? 'completions' : path === '/v1/chat/completions' ? 'chat' : null;
        if (!route) throw new RequestError(404, `no route ${path} (POST /v1/completions, POST /v1/chat/completions, GET /v1/models)`);
        if (req.method !== 'POST') throw new RequestError(405, `use POST for ${path}`);
        const { prompt, maxTokens } = parseLmRequest(route, await readBody(req));
        const closed = new AbortController();
        res.on('close', () => { if (!res.writableEnded) closed.abort(); });
        const job = queue.then(() => lm.complete(prompt, maxTokens, closed.signal));
        queue = job.catch(() => {});
        const text = await job;
        const id = `cmpl-${++served}`, created = Math.floor(Date.now() / 1000);
        const decoding = { benchtop: { decoding: 'greedy' } };
        send(res, 200, route === 'chat'
          ? { id, object: 'chat.completion', created, model: modelName, choices: [{ index: 0, message: { role: 'assistant', content: text }, finish_reason: 'stop' }], ...decoding }
          : { id, object: 'text_completion', created, model: modelName, choices: [{ index: 0, text, finish_reason: 'stop' }], ...decoding });
      } catch (e) {
        if (res.writableEnded || res.destroyed) return;
        const status = e instanceof RequestError ? e.status : 500;
        send(res, status, { error: { message: (e as Error).message, type: status === 500 ? 'server_error' : 'invalid_request_error' } });
      }
    })();
  });
  await new Promise<void>((resolve, reject) => { server.once('error', reject); server.listen(port, '127.0.0.1', () => resolve()); });
  const { port: bound } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${bound}`,
    close: () => new Promise<void>((resolve) => { server.closeAllConnections(); server.close(() => resolve()); }),
  };
}
