// Raw WebSocket frames, for sending a host what no well-behaved client library would: an
// unmasked frame, a bad close code, invalid UTF-8 in a text frame.
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

export const OPCODE = { text: 0x1, binary: 0x2, close: 0x8, ping: 0x9 } as const;

/** One frame, FIN set; masked as a client must, unless `masked` is false. */
export function frame(opcode: number, payload: Buffer, masked = true): Buffer {
  const len = payload.length;
  const head = len < 126 ? Buffer.from([0x80 | opcode, (masked ? 0x80 : 0) | len])
    : len < 65536 ? Buffer.from([0x80 | opcode, (masked ? 0x80 : 0) | 126, len >> 8, len & 255])
      : Buffer.concat([Buffer.from([0x80 | opcode, (masked ? 0x80 : 0) | 127]), (() => { const b = Buffer.alloc(8); b.writeBigUInt64BE(BigInt(len)); return b; })()]);
  if (!masked) return Buffer.concat([head, payload]);
  const key = randomBytes(4);
  const body = Buffer.from(payload.map((b, i) => b ^ key[i % 4]));
  return Buffer.concat([head, key, body]);
}

/** Opens a socket and completes the WebSocket handshake on `path` with the given headers. */
export function rawHandshake(port: number, path: string, headers: Record<string, string>): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const sock = connect(port, '127.0.0.1', () => {
      const lines = [`GET ${path} HTTP/1.1`, `Host: 127.0.0.1:${port}`, 'Upgrade: websocket', 'Connection: Upgrade',
        `Sec-WebSocket-Key: ${randomBytes(16).toString('base64')}`, 'Sec-WebSocket-Version: 13', ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
      sock.write(`${lines.join('\r\n')}\r\n\r\n`);
    });
    sock.once('data', (b) => (b.toString().startsWith('HTTP/1.1 101') ? resolve(sock) : reject(new Error(b.toString().split('\r\n')[0]))));
    sock.on('error', reject);
  });
}

/** Writes bytes and waits until the host closes the socket (or `ms` pass); returns what it sent back. */
export function sendAndWaitClose(sock: Socket, bytes: Buffer, ms = 3000): Promise<{ closed: boolean; received: Buffer }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    sock.on('data', (b) => chunks.push(b));
    const timer = setTimeout(() => { sock.destroy(); resolve({ closed: false, received: Buffer.concat(chunks) }); }, ms);
    sock.on('close', () => { clearTimeout(timer); resolve({ closed: true, received: Buffer.concat(chunks) }); });
    sock.on('error', () => { /* reset by the host: close follows */ });
    sock.write(bytes);
  });
}

/** The close code in a close frame the host sent (unmasked, as servers send). */
export function closeCode(received: Buffer): number | undefined {
  for (let i = 0; i + 3 < received.length; i++) {
    if (received[i] === 0x88 && (received[i + 1] & 0x7f) >= 2) return received.readUInt16BE(i + 2);
  }
  return undefined;
}
