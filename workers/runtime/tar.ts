// The ustar subset Benchtop writes and accepts: regular files (and directories, skipped on
// read) under relative paths. Reading treats the bytes as untrusted: a link, a device, an
// absolute path, a `..` segment, a bad checksum or a size past the end is refused by name.

export interface TarEntry { name: string; data: Uint8Array }

export class TarError extends Error {}

const BLOCK = 512;
const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });

function putString(h: Uint8Array, at: number, len: number, s: string): void {
  const b = enc.encode(s);
  if (b.length > len) throw new TarError(`"${s}" is longer than its ${len}-byte tar field`);
  h.set(b, at);
}
const putOctal = (h: Uint8Array, at: number, len: number, n: number) => putString(h, at, len, `${n.toString(8).padStart(len - 1, '0')}\0`);

/** Splits a path into ustar's prefix (≤ 155 bytes) and name (≤ 100 bytes) at a slash. */
function splitName(path: string): [prefix: string, name: string] {
  if (enc.encode(path).length <= 100) return ['', path];
  for (let i = path.lastIndexOf('/'); i > 0; i = path.lastIndexOf('/', i - 1)) {
    const prefix = path.slice(0, i), name = path.slice(i + 1);
    if (enc.encode(prefix).length <= 155 && enc.encode(name).length <= 100) return [prefix, name];
  }
  throw new TarError(`path "${path}" is too long for a tar entry`);
}

/** A tar of regular files, each with mode 0644 and the given time. */
export function writeTar(entries: readonly TarEntry[], mtimeSec = Math.floor(Date.now() / 1000)): Uint8Array {
  const size = entries.reduce((s, e) => s + BLOCK + Math.ceil(e.data.length / BLOCK) * BLOCK, 2 * BLOCK);
  const out = new Uint8Array(size);
  let at = 0;
  for (const e of entries) {
    checkName(e.name);
    const h = out.subarray(at, at + BLOCK);
    const [prefix, name] = splitName(e.name);
    putString(h, 0, 100, name);
    putOctal(h, 100, 8, 0o644); putOctal(h, 108, 8, 0); putOctal(h, 116, 8, 0);
    putOctal(h, 124, 12, e.data.length); putOctal(h, 136, 12, mtimeSec);
    h[156] = 0x30; // '0': a regular file
    putString(h, 257, 6, 'ustar\0'); putString(h, 263, 2, '00');
    putString(h, 345, 155, prefix);
    h.fill(0x20, 148, 156);
    putString(h, 148, 8, `${checksum(h).toString(8).padStart(6, '0')}\0 `);
    out.set(e.data, at + BLOCK);
    at += BLOCK + Math.ceil(e.data.length / BLOCK) * BLOCK;
  }
  return out;
}

function checksum(h: Uint8Array): number {
  let s = 0;
  for (let i = 0; i < BLOCK; i++) s += i >= 148 && i < 156 ? 0x20 : h[i];
  return s;
}

function field(h: Uint8Array, at: number, len: number): string {
  const raw = h.subarray(at, at + len);
  const end = raw.indexOf(0);
  try { return dec.decode(end < 0 ? raw : raw.subarray(0, end)); } catch { throw new TarError('an entry name is not UTF-8'); }
}

function octal(h: Uint8Array, at: number, len: number, what: string): number {
  const s = field(h, at, len).trim();
  if (!/^[0-7]+$/.test(s)) throw new TarError(`${what} is not an octal number`);
  return parseInt(s, 8);
}

/** A relative path of plain segments: no leading slash, no `.` or `..`, no backslash or NUL. */
export function checkName(name: string): void {
  if (!name) throw new TarError('an entry has an empty name');
  if (name.startsWith('/') || /^[A-Za-z]:/.test(name)) throw new TarError(`entry "${name}" has an absolute path`);
  if (/[\\\0]/.test(name)) throw new TarError(`entry "${name}" holds a backslash or NUL`);
  if (name.split('/').some((seg) => seg === '..' || seg === '.')) throw new TarError(`entry "${name}" has a "." or ".." segment`);
}

const TYPE_NAMES: Record<string, string> = {
  '1': 'a hard link', '2': 'a symbolic link', '3': 'a character device', '4': 'a block device', '6': 'a FIFO',
  x: 'a PAX header', g: 'a PAX global header', L: 'a GNU long name', K: 'a GNU long link',
};

/** The regular files of a tar, checked entry by entry; throws TarError naming the first bad one. */
export function readTar(buf: Uint8Array, limits: { maxEntries: number }): TarEntry[] {
  const out: TarEntry[] = [];
  const seen = new Set<string>();
  for (let at = 0; ;) {
    if (at + BLOCK > buf.length) throw new TarError('the archive ends inside an entry header (truncated?)');
    const h = buf.subarray(at, at + BLOCK);
    if (h.every((b) => b === 0)) return out; // the end marker
    if (octal(h, 148, 8, 'a header checksum') !== checksum(h)) throw new TarError(`the header at byte ${at} has a bad checksum (not a tar, or damaged)`);
    const prefix = field(h, 345, 155), base = field(h, 0, 100);
    const name = (prefix ? `${prefix}/${base}` : base).replace(/\/$/, '');
    const type = String.fromCharCode(h[156] || 0x30);
    const size = octal(h, 124, 12, `the size of "${name}"`);
    const start = at + BLOCK;
    if (start + size > buf.length) throw new TarError(`entry "${name}" runs past the end of the archive (truncated?)`);
    checkName(name);
    if (type !== '0' && type !== '5' && type !== '7') throw new TarError(`entry "${name}" is ${TYPE_NAMES[type] ?? `of type "${type}"`}: only regular files are accepted`);
    if (type !== '5') {
      if (seen.has(name)) throw new TarError(`entry "${name}" appears twice`);
      seen.add(name);
      out.push({ name, data: buf.subarray(start, start + size) });
      if (out.length > limits.maxEntries) throw new TarError(`the archive holds more than ${limits.maxEntries} files`);
    }
    at = start + Math.ceil(size / BLOCK) * BLOCK;
  }
}
