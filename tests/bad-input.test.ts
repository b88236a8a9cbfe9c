// The bad-input corpus: CLI argument lists, API calls, WebSocket frames and damaged files,
// each with the message it must get. Around it: a store holding finished runs, which must
// come out identical (nothing saved lost), and a host that must still answer (no crash).
// Counts (tried, clear error, crash, data lost) go to test-results/bad-input.json.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, truncateSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { gzipSync } from 'node:zlib';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import WebSocket from 'ws';
import { startWebHost, MAX_MESSAGE_BYTES, type WebHost } from '../cli/web-host';
import { createHandlers, dispatch, type Handlers } from '../workers/jobs/api-handlers';
import { JobService } from '../workers/jobs/job-service';
import { RunStore } from '../workers/jobs/run-store';
import { dbPath } from '../workers/runtime/paths';
import { closeCode, frame, OPCODE, rawHandshake, sendAndWaitClose } from './helpers/raw-websocket';

const root = join(__dirname, '..');
const workerPath = join(root, 'out', 'main', 'lab-worker.js');
const home = mkdtempSync(join(tmpdir(), 'bt-bad-'));
const scratch = mkdtempSync(join(tmpdir(), 'bt-bad-scratch-'));
const aFile = join(scratch, 'a-file.txt');
writeFileSync(aFile, 'not a folder');

type Outcome = { kind: string; name: string; clear: boolean; crash: boolean; got: string };
const outcomes: Outcome[] = [];
let store: RunStore, jobs: JobService, handlers: Handlers, host: WebHost;
let finishedRun: string, secondRun: string;
let snapshot: string;

/** Everything saved about the store's runs: their records, events and files, as one hash. */
function storeDigest(): string {
  const h = createHash('sha256');
  for (const run of store.listRuns().sort((a, b) => a.id.localeCompare(b.id))) {
    const d = store.getDetail(run.id)!;
    h.update(JSON.stringify({ ...d, run: { ...d.run, progress: null } }));
    const walk = (dir: string) => {
      for (const f of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
        const p = join(dir, f.name);
        if (f.isDirectory()) walk(p); else h.update(p).update(readFileSync(p));
      }
    };
    walk(run.runDir);
  }
  return h.digest('hex');
}

function integrityOk(path: string): boolean {
  const { Database } = createRequire(__filename)('node-sqlite3-wasm');
  const db = new Database(path, { readOnly: true });
  try { return (db.get('PRAGMA integrity_check') as { integrity_check: string }).integrity_check === 'ok'; } finally { db.close(); }
}

beforeAll(async () => {
  store = new RunStore(dbPath(home));
  jobs = new JobService({ store, home, workerPath, host: 'test' });
  handlers = createHandlers(jobs, store, { host: 'web', version: 't', home });
  for (const seed of [2, 3]) {
    const run = jobs.start({ lab: 'reference-classifier', preset: 'smoke', seed, params: { epochs: 1 } });
    expect((await jobs.waitFor(run.id)).status).toBe('succeeded');
    if (seed === 2) finishedRun = run.id; else secondRun = run.id;
  }
  host = await startWebHost({ handlers, subscribe: (l) => jobs.onUpdate(l), rendererDir: join(root, 'out', 'renderer'), token: 'bad-input-token' });
  snapshot = storeDigest();
}, 120_000);

afterAll(async () => {
  await host?.close();
  await jobs?.shutdown();
  store?.close();
});

function record(kind: string, name: string, got: string, pattern: RegExp, crash = false) {
  outcomes.push({ kind, name, clear: pattern.test(got), crash, got: got.slice(0, 300) });
}

describe('bad-input corpus', () => {
  it('CLI argument lists: exit 2 (or 1 for a bad store) with a message naming the problem', async () => {
    const brokenStoreHome = mkdtempSync(join(tmpdir(), 'bt-bad-store-'));
    writeFileSync(dbPath(brokenStoreHome), 'this is not a database but the user may care about it.............');
    const folderStoreHome = mkdtempSync(join(tmpdir(), 'bt-bad-store-'));
    mkdirSync(dbPath(folderStoreHome));
    const rc = ['run', 'reference-classifier'];
    const corpus: [string[], RegExp, string?][] = [
      [[...rc, '--presett', 'smoke'], /unknown option --presett .*did you mean --preset\?/],
      [[...rc, '-p', 'smoke'], /unknown option -p .*did you mean --preset\?/],
      [[...rc, '--seeed', '3'], /unknown option --seeed .*did you mean --seed\?/],
      [[...rc, 'smoke'], /unexpected argument "smoke"/],
      [[...rc, '--preset', 'smoke', 'extra', 'words'], /unexpected argument "extra"/],
      [[...rc, '--seed', ''], /--seed "" is not a whole number/],
      [[...rc, '--seed', '0x10'], /--seed "0x10" is not a whole number/],
      [[...rc, '--seed', '1e3'], /--seed "1e3" is not a whole number/],
      [[...rc, '--seed', '-4'], /--seed "-4" is not a whole number/],
      [[...rc, '--seed', '2147483648'], /--seed "2147483648" is not a whole number/],
      [[...rc, '--seed', '3', '--set', 'seed=4'], /--seed 3 and --set seed=4 disagree/],
      [[...rc, '--set', 'seed=abc'], /--set seed "abc" is not a whole number/],
      [[...rc, '--out='], /--out needs a folder/],
      [[...rc, '--out', '/proc/x'], /\/proc\/x is a kernel or device folder/],
      [[...rc, '--out', '/sys/kernel/x'], /is a kernel or device folder/],
      [[...rc, '--out', aFile], /exists and is a file, not a folder/],
      [[...rc, '--out', join(aFile, 'sub')], /cannot create .* \(a file is in the way\)/],
      [[...rc, '--set', 'epochs=0'], /invalid parameter "epochs"/],
      [[...rc, '--set', 'epochs=abc'], /"epochs"/],
      [[...rc, '--set', 'bogus=1'], /"bogus"/],
      [[...rc, '--set', 'noequals'], /--set noequals: expected key=value/],
      [[...rc, '--set'], /--set needs a value/],
      [[...rc, '--preset', 'huge'], /invalid parameter "preset": "huge"/],
      [[...rc, '--preset', 'smoke', '--preset', 'default'], /--preset is given twice/],
      [[...rc, '--json=1'], /--json takes no value/],
      [['run', 'ec-dit', '--set', 'models=["ec"'], /is not valid JSON/],
      [['run', 'ec-dit', '--set', 'models=ec,xx'], /"models\.1"/],
      [['run', 'idempotent-codec', '--set', 'lambdas='], /"lambdas"/],
      [['run', 'idempotent-codec', '--set', 'zeta=-1'], /invalid parameter "zeta"/],
      [['run', 'idempotent-codec', '--set', 'sampler=ddim'], /invalid parameter "sampler"/],
      [['run', 'idempotent-codec', '--set', 'zetaSweep=0.3,abc'], /"zetaSweep\.1"/],
      [['run', 'mm-ego', '--set', 'frameSize=40'], /invalid parameter "frameSize": frames are 32 or 48 pixels wide/],
      [['run', 'mm-ego', '--set', 'shortFrames=50'], /invalid parameter "mediumFrames": the bins must grow/],
      [['run', 'mm-ego', '--set', 'answerFormat=free'], /invalid parameter "answerFormat"/],
      [['run', 'mm-ego', '--set', 'kSweep=2,x'], /"kSweep\.1"/],
      [['run', 'afm-ondevice', '--set', 'distillTarget=logits'], /invalid parameter "distillTarget"/],
      [['run', 'afm-ondevice', '--set', 'loraTokensPct=5'], /invalid parameter "loraTokensPct"/],
      [['run', 'afm-ondevice', '--set', 'teacher=d256'], /invalid parameter "teacher"/],
      [['export', 'not a run'], /"not a run" is not a run id/],
      [['import'], /`benchtop import` needs <archive file>/],
      [['import', '/no/such/archive.tgz'], /no file \/no\/such\/archive\.tgz/],
      [['run', 'no-such-lab'], /unknown lab "no-such-lab" \(known: /],
      [['run'], /`benchtop run` needs <lab>/],
      [['frobnicate'], /unknown command "frobnicate"/],
      [['list', '--jsn'], /unknown option --jsn .*did you mean --json\?/],
      [['web', '--port', '70000'], /--port "70000" is not a port number/],
      [['web', '--port', 'abc'], /--port "abc" is not a port number/],
      [['report', join(scratch, 'no-such-run')], /is not a run folder/],
      [['report'], /`benchtop report` needs <run id or folder>/],
      [['report', 'nosuchrun-000000'], /no run nosuchrun-000000 in /],
      [[...rc, '--', '--preset', 'smoke'], /`--` is not used by benchtop/],
      [[...rc, '--preset', 'smoke'], /the run store .* cannot be opened \(.*\); it was left untouched/, brokenStoreHome],
      [[...rc, '--preset', 'smoke'], /the run store .* cannot be opened: that path is a folder, not a database file/, folderStoreHome],
    ];
    const brokenBefore = readFileSync(dbPath(brokenStoreHome));
    const runOne = ([args, , env]: (typeof corpus)[number]) => new Promise<{ code: number | null; stderr: string; stdout: string }>((resolve) => {
      const child = spawn(process.execPath, [join(root, 'bin', 'benchtop.js'), ...args], { cwd: scratch, env: { ...process.env, BENCHTOP_HOME: env ?? home }, stdio: ['ignore', 'pipe', 'pipe'] });
      let stderr = '', stdout = '';
      child.stdout.on('data', (b) => { stdout += b; });
      child.stderr.on('data', (b) => { stderr += b; });
      child.on('close', (code) => resolve({ code, stderr, stdout }));
    });
    const results = new Array(corpus.length);
    let next = 0;
    await Promise.all(Array.from({ length: 3 }, async () => { while (next < corpus.length) { const i = next++; results[i] = await runOne(corpus[i]); } }));
    corpus.forEach(([args, pattern, env], i) => {
      const { code, stderr, stdout } = results[i];
      const crash = !(code === 1 || code === 2) || /\n\s+at |TypeError|ReferenceError|EPIPE/.test(stderr);
      record('cli', `benchtop ${args.join(' ')}${env ? ' (bad store)' : ''}`, stderr, pattern, crash);
      expect(stdout, args.join(' ')).toBe('');
    });
    expect(readFileSync(dbPath(brokenStoreHome)).equals(brokenBefore)).toBe(true); // a damaged store is left as it was
    expect(readdirSync(scratch).sort()).toEqual(['a-file.txt']); // nothing written into the working folder
  }, 240_000);

  it('API calls: each refused with a message naming the argument', async () => {
    const corpus: [string, string, unknown, RegExp][] = [
      ['unknown method', 'eval', [], /unknown method "eval"/],
      ['prototype method', '__proto__', [], /unknown method "__proto__"/],
      ['inherited method', 'toString', [], /unknown method "toString"/],
      ['args not a list', 'getRun', 'x', /bad arguments to getRun: args must be a list/],
      ['unknown lab', 'startRun', [{ lab: 'nope', preset: 'smoke', seed: 1 }], /unknown lab "nope"/],
      ['bad preset', 'startRun', [{ lab: 'reference-classifier', preset: 'huge', seed: 1 }], /bad arguments to startRun: 0\.preset/],
      ['negative seed', 'startRun', [{ lab: 'reference-classifier', preset: 'smoke', seed: -1 }], /bad arguments to startRun: 0\.seed/],
      ['fractional seed', 'startRun', [{ lab: 'reference-classifier', preset: 'smoke', seed: 1.5 }], /bad arguments to startRun: 0\.seed/],
      ['param out of range', 'startRun', [{ lab: 'reference-classifier', preset: 'smoke', seed: 1, params: { epochs: -1 } }], /invalid parameter "epochs"/],
      ['param of wrong type', 'startRun', [{ lab: 'reference-classifier', preset: 'smoke', seed: 1, params: { epochs: 'many' } }], /invalid parameter "epochs"/],
      ['unknown param', 'startRun', [{ lab: 'reference-classifier', preset: 'smoke', seed: 1, params: { bogus: 1 } }], /"bogus"/],
      ['params not an object', 'startRun', [{ lab: 'reference-classifier', preset: 'smoke', seed: 1, params: [1] }], /bad arguments to startRun: 0\.params/],
      ['path as run id', 'getRun', ['../../etc/passwd'], /bad arguments to getRun: 0: not a run id/],
      ['SQL as run id', 'getRun', ["x' OR 1=1 --"], /not a run id/],
      ['delete unknown run', 'deleteRun', ['nosuchrun-000000'], /no run nosuchrun-000000/],
      ['delete with no id', 'deleteRun', [], /bad arguments to deleteRun/],
      ['artifact path traversal', 'readArtifact', ['$RUN', '../../../../etc/passwd'], /has no artifact "\.\.\/\.\.\/\.\.\/\.\.\/etc\/passwd"/],
      ['query named constructor', 'query', ['$RUN', 'constructor', {}], /has no query "constructor"/],
      ['query named __proto__', 'query', ['$RUN', '__proto__', {}], /has no query "__proto__"/],
      ['query named hasOwnProperty', 'query', ['$RUN', 'hasOwnProperty', {}], /has no query "hasOwnProperty"/],
      ['query with wrong pixels', 'query', ['$RUN', 'classify', { pixels: [1, 2, 3] }], /bad arguments to query "classify": pixels: must hold 784 numbers in \[0, 1\]/],
      ['query with pixels out of range', 'query', ['$RUN', 'classify', { pixels: new Array(784).fill(255) }], /bad arguments to query "classify": pixels\.0: Too big/],
      ['query with no args', 'query', ['$RUN', 'classify', null], /bad arguments to query "classify": pixels: must be a list of 784 numbers/],
      ['query of an unknown run', 'query', ['nosuchrun-000000', 'classify', {}], /no run nosuchrun-000000/],
      ['listRuns with a number', 'listRuns', [42], /bad arguments to listRuns/],
      ['annotate an unknown run', 'annotateRun', ['nosuchrun-000000', { name: 'x' }], /no run nosuchrun-000000/],
      ['annotate with an unknown field', 'annotateRun', ['$RUN', { status: 'succeeded' }], /bad arguments to annotateRun: 1: Unrecognized key/],
      ['a tag with a comma', 'annotateRun', ['$RUN', { tags: ['a,b'] }], /a tag holds a comma/],
      ['too many tags', 'annotateRun', ['$RUN', { tags: Array.from({ length: 21 }, (_, i) => `t${i}`) }], /at most 20 tags/],
      ['a note too long', 'annotateRun', ['$RUN', { note: 'x'.repeat(4001) }], /the note is over 4,000 characters/],
      ['sweep of an unknown param', 'startSweep', [{ lab: 'reference-classifier', preset: 'smoke', param: 'nope', values: [1], seeds: [1] }], /has no param "nope"/],
      ['sweep with an invalid value', 'startSweep', [{ lab: 'reference-classifier', preset: 'smoke', param: 'epochs', values: [1, 99], seeds: [1] }], /sweep: epochs = 99: .*epochs/],
      ['sweep with no seeds', 'startSweep', [{ lab: 'reference-classifier', preset: 'smoke', param: 'epochs', values: [1], seeds: [] }], /give at least one seed/],
      ['import: a chunk of an unknown upload', 'importRunChunk', [{ upload: 'abcdef0123', index: 3, base64: '', last: true, fileName: 'x.tgz' }], /chunk 3 of an upload this host does not know/],
      ['import: not base64', 'importRunChunk', [{ upload: 'abcdef0124', index: 0, base64: '<script>', last: true, fileName: 'x.tgz' }], /a chunk is not base64/],
      ['import: a bad upload id', 'importRunChunk', [{ upload: '../../x', index: 0, base64: '', last: true, fileName: 'x.tgz' }], /not an upload id/],
      ['import: a PNG', 'importRunChunk', [{ upload: 'abcdef0125', index: 0, base64: Buffer.from('\x89PNG\r\n\x1a\n').toString('base64'), last: true, fileName: 'digit.png' }], /not a Benchtop run archive .* not gzip data/],
      ['import: a gzip that is not a tar', 'importRunChunk', [{ upload: 'abcdef0126', index: 0, base64: gzipSync(Buffer.from('hello')).toString('base64'), last: true, fileName: 'x.tgz' }], /ends inside an entry header|bad checksum/],
      ['export an unknown run', 'exportRun', ['nosuchrun-000000'], /no run nosuchrun-000000/],
      ['sweep too large', 'startSweep', [{ lab: 'reference-classifier', preset: 'smoke', param: 'epochs', values: Array.from({ length: 13 }, (_, i) => i + 1), seeds: [1] }], /at most 12 values/],
    ];
    for (const [name, method, rawArgs, pattern] of corpus) {
      const args = Array.isArray(rawArgs) ? rawArgs.map((a) => (a === '$RUN' ? finishedRun : a)) : rawArgs;
      let got = '(no error)';
      try { await dispatch(handlers, method, args); } catch (err) { got = (err as Error).message; }
      record('api', name, got, pattern);
    }
  }, 60_000);

  it('damaged files: a truncated checkpoint is named when a restarted host reloads the run', async () => {
    const copyDir = mkdtempSync(join(tmpdir(), 'bt-bad-ckpt-'));
    const second = store.getRun(secondRun)!;
    const ckpt = join(second.runDir, 'checkpoints', 'classifier.ckpt');
    copyFileSync(ckpt, join(copyDir, 'classifier.ckpt'));
    truncateSync(ckpt, 100);
    const restarted = new JobService({ store, home, workerPath, host: 'test-restarted' });
    let got = '(no error)';
    try { await restarted.query(secondRun, 'classify', { pixels: new Array(784).fill(0) }); } catch (err) { got = (err as Error).message; }
    await restarted.shutdown();
    copyFileSync(join(copyDir, 'classifier.ckpt'), ckpt); // the corpus's own damage, undone before the data check
    record('file', 'truncated checkpoint', got, /checkpoint .*classifier\.ckpt is not readable: /);
  }, 60_000);

  it('WebSocket frames: answered with an error, or that socket closed with the protocol code; the host keeps serving', async () => {
    const origin = `http://127.0.0.1:${host.port}`;
    const openClient = () => new Promise<WebSocket>((resolve, reject) => {
      const s = new WebSocket(`ws://127.0.0.1:${host.port}/api?token=bad-input-token`, { headers: { origin } });
      s.on('open', () => resolve(s)); s.on('error', reject);
    });
    const texts: [string, string | Buffer, RegExp, boolean?][] = [
      ['null', 'null', /bad message/], ['number', '7', /bad message/], ['string', '"listLabs"', /bad message/], ['array', '[1,2]', /bad message/],
      ['not JSON', 'listLabs()', /message is not JSON/], ['empty', '', /message is not JSON/],
      ['id as string', '{"id":"1","method":"listLabs","args":[]}', /bad message: id/],
      ['huge id', '{"id":1e400,"method":"listLabs","args":[]}', /bad message: id/],
      ['args as object', '{"id":1,"method":"getRun","args":{"0":"x"}}', /bad message: args/],
      ['__proto__ key', '{"id":1,"method":"listLabs","args":[],"__proto__":{"admin":true}}', /bad message/],
      ['method __proto__', '{"id":1,"method":"__proto__","args":[]}', /unknown method "__proto__"/],
      ['deep nesting', `{"id":1,"method":"listRuns","args":[${'['.repeat(5000)}${']'.repeat(5000)}]}`, /message is nested too deeply to read/],
      ['binary frame', Buffer.from('{"id":1,"method":"listLabs","args":[]}'), /binary messages are not accepted/, true],
    ];
    const client = await openClient();
    for (const [name, data, pattern, binary] of texts) {
      const reply = await new Promise<string>((resolve) => { client.once('message', (d) => resolve(String(d))); client.send(data, { binary: !!binary }); });
      record('websocket', name, String((JSON.parse(reply) as { error?: unknown }).error), pattern);
    }
    client.close();
    const violations: [string, Buffer, number][] = [
      ['message over 8 MiB', frame(OPCODE.text, Buffer.alloc(MAX_MESSAGE_BYTES + 1, 0x20)), 1009],
      ['invalid UTF-8', frame(OPCODE.text, Buffer.from([0xc3, 0x28])), 1007],
      ['bad close code', frame(OPCODE.close, Buffer.from([0x03, 0xe7])), 1002],
      ['unmasked frame', frame(OPCODE.text, Buffer.from('{}'), false), 1002],
      ['reserved opcode', frame(0xb, Buffer.alloc(0)), 1002],
    ];
    for (const [name, bytes, code] of violations) {
      const raw = await rawHandshake(host.port, '/api?token=bad-input-token', { Origin: origin });
      const { closed, received } = await sendAndWaitClose(raw, bytes);
      record('websocket', name, closed ? `closed with ${closeCode(received)}` : 'left open', new RegExp(`^closed with ${code}$`));
    }
    const after = await openClient();
    const info = await new Promise<string>((resolve) => { after.once('message', (d) => resolve(String(d))); after.send('{"id":9,"method":"hostInfo","args":[]}'); });
    expect(JSON.parse(info)).toMatchObject({ kind: 'result', id: 9, result: { host: 'web' } });
    after.close();
  }, 60_000);

  it('counts: every input got a clear message, nothing crashed, nothing saved was lost', () => {
    const dataLost = storeDigest() !== snapshot || !integrityOk(dbPath(home)) ? 1 : 0;
    const counts = { tried: outcomes.length, clearError: outcomes.filter((o) => o.clear && !o.crash).length, crash: outcomes.filter((o) => o.crash).length, dataLost };
    mkdirSync(join(root, 'test-results'), { recursive: true });
    writeFileSync(join(root, 'test-results', 'bad-input.json'), JSON.stringify({ counts, outcomes }, null, 2));
    console.log(`bad-input corpus: ${counts.tried} tried, ${counts.clearError} clear error, ${counts.crash} crash, ${counts.dataLost} data lost`);
    expect(outcomes.filter((o) => !o.clear || o.crash).map((o) => `${o.kind} ${o.name}: ${o.got}`)).toEqual([]);
    expect(counts.tried).toBeGreaterThan(80);
    expect(dataLost).toBe(0);
    expect(store.listRuns()).toHaveLength(2); // no bad input started a run
  });
});
