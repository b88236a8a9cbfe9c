// Strict argument parsing for `benchtop`: each command names the options it takes, and
// anything else (an unknown or mistyped flag, a stray word, a value where none belongs, a
// missing value) is a UsageError naming it, so a typo never silently starts a long run.
import { existsSync, mkdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export class UsageError extends Error {}

interface CommandShape {
  /** Positional arguments: names, in order (all required). */
  positional: readonly string[];
  /** Options that take a value. */
  values: readonly string[];
  /** Options that are switches. */
  switches: readonly string[];
  /** Options that may repeat (their values are collected). */
  repeats?: readonly string[];
}

export const COMMANDS: Record<string, CommandShape> = {
  list: { positional: [], values: [], switches: ['json'] },
  run: { positional: ['lab'], values: ['preset', 'seed', 'set', 'out', 'queue', 'queue-ca'], switches: ['json'], repeats: ['set'] },
  report: { positional: ['run id or folder'], values: ['output'], switches: [] },
  web: { positional: [], values: ['port', 'queue', 'queue-ca'], switches: [] },
  worker: { positional: [], values: ['queue', 'queue-ca', 'cores'], switches: [] },
  'serve-lm': { positional: ['model folder or built-in LM'], values: ['port', 'name'], switches: [] },
  export: { positional: ['run id'], values: ['output'], switches: [] },
  import: { positional: ['archive file'], values: [], switches: [] },
  help: { positional: [], values: [], switches: [] },
};

export interface ParsedArgs {
  command: string;
  positional: string[];
  values: Record<string, string>;
  switches: Set<string>;
  repeated: Record<string, string[]>;
}

/** Levenshtein distance, for "did you mean" on a mistyped option. */
function distance(a: string, b: string): number {
  const d = Array.from({ length: a.length + 1 }, (_, i) => [i, ...new Array<number>(b.length).fill(0)]);
  for (let j = 1; j <= b.length; j++) d[0][j] = j;
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (a[i - 1] === b[j - 1] ? 0 : 1));
  }
  return d[a.length][b.length];
}

function unknownOption(flag: string, command: string, shape: CommandShape): UsageError {
  const known = [...shape.values, ...shape.switches];
  const name = flag.replace(/^-+/, '').split('=')[0];
  const near = known.filter((k) => distance(k, name) <= 2 || (name.length === 1 && k.startsWith(name)));
  const hint = near.length ? ` (did you mean ${near.map((k) => `--${k}`).join(' or ')}?)` : '';
  const takes = known.length ? `it takes ${known.map((k) => `--${k}`).join(', ')}` : 'it takes no options';
  return new UsageError(`unknown option ${flag} for \`benchtop ${command}\`${hint}; ${takes}`);
}

export function parseArgs(argv: readonly string[]): ParsedArgs {
  const first = argv[0];
  const command = first === undefined || first === '--help' || first === '-h' ? 'help' : first;
  const shape = COMMANDS[command];
  if (!shape) throw new UsageError(`unknown command "${command}"`);
  const parsed: ParsedArgs = { command, positional: [], values: {}, switches: new Set(), repeated: {} };
  for (let i = first === undefined ? 0 : 1; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--help' || a === '-h') { parsed.switches.add('help'); continue; }
    if (a === '--') throw new UsageError('`--` is not used by benchtop: pass options as --name value');
    if (!a.startsWith('-') || a === '-') {
      if (parsed.positional.length >= shape.positional.length) {
        throw new UsageError(`unexpected argument "${a}" for \`benchtop ${command}\`${shape.positional.length ? ` (it takes ${shape.positional.map((p) => `<${p}>`).join(' ')} once)` : ''}`);
      }
      parsed.positional.push(a);
      continue;
    }
    if (!a.startsWith('--')) throw unknownOption(a, command, shape);
    const eq = a.indexOf('=');
    const name = a.slice(2, eq < 0 ? undefined : eq);
    if (shape.switches.includes(name)) {
      if (eq >= 0) throw new UsageError(`--${name} takes no value`);
      parsed.switches.add(name);
      continue;
    }
    if (!shape.values.includes(name)) throw unknownOption(a, command, shape);
    const value = eq >= 0 ? a.slice(eq + 1) : argv[++i];
    if (value === undefined || (eq < 0 && value.startsWith('--'))) throw new UsageError(`--${name} needs a value`);
    if (shape.repeats?.includes(name)) (parsed.repeated[name] ??= []).push(value);
    else if (name in parsed.values) throw new UsageError(`--${name} is given twice ("${parsed.values[name]}" and "${value}")`);
    else parsed.values[name] = value;
  }
  if (!parsed.switches.has('help') && parsed.positional.length < shape.positional.length) {
    throw new UsageError(`\`benchtop ${command}\` needs <${shape.positional[parsed.positional.length]}>`);
  }
  return parsed;
}

/** A seed: decimal digits only (not "", "0x10", "1e3", "-4"), in [0, 2^31 − 1]. */
export function parseSeed(raw: string, flag = '--seed'): number {
  if (!/^\d{1,10}$/.test(raw) || Number(raw) > 2 ** 31 - 1) throw new UsageError(`${flag} "${raw}" is not a whole number in 0…2147483647 (decimal digits only)`);
  return Number(raw);
}

/** A TCP port: decimal digits only, 0 (any free port) to 65535. */
export function parsePort(raw: string): number {
  if (!/^\d{1,5}$/.test(raw) || Number(raw) > 65535) throw new UsageError(`--port "${raw}" is not a port number in 0…65535`);
  return Number(raw);
}

/** A worker's --cores: a whole number from 1 to this machine's cores. */
export function parseCores(raw: string, available: number): number {
  if (!/^\d{1,4}$/.test(raw) || Number(raw) < 1 || Number(raw) > available) throw new UsageError(`--cores "${raw}" is not a whole number in 1…${available} (this machine's cores)`);
  return Number(raw);
}

/** Checks an --out folder can hold a run store (creating it if needed); returns its absolute path. */
export function checkOutFolder(raw: string): string {
  if (raw.trim() === '') throw new UsageError('--out needs a folder (an empty value would write into the current folder)');
  const dir = resolve(raw);
  if (/^\/(proc|sys|dev)(\/|$)/.test(dir)) throw new UsageError(`--out ${raw}: ${dir} is a kernel or device folder, not a place for a run store`);
  if (existsSync(dir) && !statSync(dir).isDirectory()) throw new UsageError(`--out ${raw}: ${dir} exists and is a file, not a folder`);
  try { mkdirSync(dir, { recursive: true }); } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    throw new UsageError(`--out ${raw}: cannot create ${dir} (${code === 'EEXIST' || code === 'ENOTDIR' ? 'a file is in the way' : code === 'EACCES' || code === 'EPERM' || code === 'EROFS' ? 'not writable' : (err as Error).message})`);
  }
  const probe = join(dir, `.benchtop-write-test-${process.pid}`);
  try { writeFileSync(probe, ''); rmSync(probe); } catch (err) {
    throw new UsageError(`--out ${raw}: ${dir} is not writable (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`);
  }
  return dir;
}
