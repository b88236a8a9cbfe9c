// BenchtopApi over the browser host's WebSocket. The token travels as an HttpOnly cookie
// set when the printed URL was opened; the socket reconnects if the host restarts.
import type { BenchtopApi, RunUpdate } from '../../../common/api';
import { parseJson, stringifyJson } from '../../../common/json';
import { bridgeApi, type ApiMethod } from '../../../common/api-methods';

/** Why the host closed the socket, for the calls still waiting on it. */
function closeReason(ev: CloseEvent): string {
  if (ev.code === 1009) return 'the Benchtop host refused a message over its 8 MiB limit and closed the connection';
  if (ev.code === 1002 || ev.code === 1007) return `the Benchtop host closed the connection: the message was malformed (code ${ev.code})`;
  return 'connection to the Benchtop host closed';
}

type Pending = { resolve: (v: unknown) => void; reject: (e: Error) => void };

const connectionListeners = new Set<(connected: boolean) => void>();
let lastConnected = true;
function setConnected(connected: boolean): void {
  if (connected === lastConnected) return;
  lastConnected = connected;
  for (const l of connectionListeners) l(connected);
}

/** Tells when the host connection is lost and when it is back (the socket retries every second). */
export function onWebsocketConnection(listener: (connected: boolean) => void): () => void {
  connectionListeners.add(listener);
  return () => { connectionListeners.delete(listener); };
}

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
      ws.onopen = () => { socket = ws; setConnected(true); resolve(ws); };
      ws.onerror = () => reject(new Error('cannot reach the Benchtop host (is `benchtop web` still running?)'));
      ws.onclose = (ev) => {
        socket = undefined; opened = undefined;
        setConnected(false);
        for (const p of pending.values()) p.reject(new Error(closeReason(ev)));
        pending.clear();
        setTimeout(() => { if (listeners.size) connect().catch(() => {}); }, 1000);
      };
      ws.onmessage = (ev) => {
        let msg;
        try { msg = parseJson(String(ev.data)) as { kind: string; update?: RunUpdate; id?: number; result?: unknown; error?: string }; } catch { return; }
        if (msg.kind === 'update' && msg.update) for (const l of listeners) l(msg.update);
        else if (msg.kind === 'result' && typeof msg.id === 'number') {
          const p = pending.get(msg.id);
          pending.delete(msg.id);
          if (p) msg.error ? p.reject(new Error(msg.error)) : p.resolve(msg.result);
        }
      };
    });
    return opened;
  };

  const call = async (method: ApiMethod, args: unknown[]): Promise<unknown> => {
    const ws = socket ?? (await connect());
    const id = ++seq;
    return new Promise((resolve, reject) => {
      pending.set(id, { resolve, reject });
      ws.send(stringifyJson({ id, method, args }));
    });
  };

  return bridgeApi(call, (listener) => {
    listeners.add(listener);
    connect().catch(() => {});
    return () => { listeners.delete(listener); };
  });
}
