// BenchtopApi over the browser host's WebSocket. The token travels as an HttpOnly cookie
// set when the printed URL was opened; the socket reconnects if the host restarts.
import type { BenchtopApi, RunUpdate } from '../../../common/api';

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

export function websocketBridge(): BenchtopApi {
  const listeners = new Set<(u: RunUpdate) => void>();
  const pending = new Map<number, Pending>();
  let seq = 0;
  let socket: WebSocket | undefined;
  let opened: Promise<WebSocket> | undefined;

  const connect = (): Promise<WebSocket> => {
    if (opened) return opened;
    opened = new Promise((resolve, reject) => {
      const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api`);
      ws.onopen = () => { socket = ws; resolve(ws); };
      ws.onerror = () => reject(new Error('cannot reach the Benchtop host (is `benchtop web` still running?)'));
      ws.onclose = () => {
        socket = undefined; opened = undefined;
        for (const p of pending.values()) p.reject(new Error('connection to the Benchtop host closed'));
        pending.clear();
        setTimeout(() => { if (listeners.size) connect().catch(() => {}); }, 1000);
      };
      ws.onmessage = (ev) => {
        const msg = JSON.parse(String(ev.data));
        if (msg.kind === 'update') for (const l of listeners) l(msg.update);
        else if (msg.kind === 'result') {
          const p = pending.get(msg.id);
          pending.delete(msg.id);
          if (p) msg.error ? p.reject(new Error(msg.error)) : p.resolve(msg.result);
        }
      };
    });
    return opened;
  };

  const call = async (method: string, ...args: unknown[]): Promise<never> => {
    const ws = socket ?? (await connect());
    const id = ++seq;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve: resolve as (v: unknown) => void, reject });
      ws.send(JSON.stringify({ id, method, args }));
    });
  };

  return {
    listLabs: () => call('listLabs'),
    startRun: (req) => call('startRun', req),
    cancelRun: (id) => call('cancelRun', id),
    listRuns: (lab) => call('listRuns', lab),
    getRun: (id) => call('getRun', id),
    deleteRun: (id) => call('deleteRun', id),
    query: (id, name, args) => call('query', id, name, args),
    readArtifact: (id, name) => call('readArtifact', id, name),
    hostInfo: () => call('hostInfo'),
    onRunUpdate(listener) {
      listeners.add(listener);
      connect().catch(() => {});
      return () => listeners.delete(listener);
    },
  };
}
