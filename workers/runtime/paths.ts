// Where Benchtop keeps its state. One place for the app, the browser host and the CLI,
// so CLI runs show up in the app's runs table. BENCHTOP_HOME moves it (tests, CI).
import { homedir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { existsSync, mkdirSync, realpathSync, renameSync, writeFileSync, openSync, fsyncSync, closeSync } from 'node:fs';

export function benchtopHome(): string {
  return process.env.BENCHTOP_HOME || join(process.env.XDG_CONFIG_HOME || join(homedir(), '.config'), 'benchtop');
}
export const cacheDir = (home = benchtopHome()) => join(home, 'cache');
export const runsDir = (home = benchtopHome()) => join(home, 'runs');
export const dbPath = (home = benchtopHome()) => join(home, 'benchtop.sqlite');

/** Temp file, fsync, rename: a reader never sees half a file, a crash leaves the old one. */
export function writeFileAtomic(path: string, data: string | Uint8Array): void {
  mkdirSync(join(path, '..'), { recursive: true });
  const tmp = `${path}.tmp-${process.pid}-${Math.random().toString(36).slice(2)}`;
  writeFileSync(tmp, data);
  const fd = openSync(tmp, 'r');
  try { fsyncSync(fd); } finally { closeSync(fd); }
  renameSync(tmp, path);
}

/**
 * The real path of `relative` inside `root` after resolving every symlink, or undefined when
 * it is missing or lands outside (a `..`, an absolute path, a link placed under root).
 */
export function realFileInside(root: string, relative: string): string | undefined {
  if (relative.includes('\0')) return undefined;
  try {
    const realRoot = realpathSync(root);
    const real = realpathSync(resolve(realRoot, `./${relative}`));
    return real.startsWith(realRoot + sep) ? real : undefined;
  } catch { return undefined; }
}

/**
 * The built out/ folder this code runs from: the nearest folder at or above this module that
 * holds build-info.json (a bundle may sit in out/main or in a chunk below it), or undefined
 * when running from the source tree.
 */
export function builtOutDir(from = __dirname): string | undefined {
  let dir = from;
  for (let i = 0; i < 4; i++, dir = dirname(dir)) if (existsSync(join(dir, 'build-info.json'))) return dir;
  return undefined;
}

/** A file of the built app (out/<relative>); throws naming it when the app is not built. */
export function builtFile(relative: string): string {
  const out = builtOutDir();
  if (!out || !existsSync(join(out, relative))) throw new Error(`${relative} is not built next to ${__dirname}: run \`npm run build\``);
  return join(out, relative);
}
