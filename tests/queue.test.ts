// Sweeps on a BullMQ queue: Debian's redis-server on a free port, `benchtop worker` processes
// (the built CLI, as a user starts them), and a coordinator in this process with its own run
// store. A worker is SIGKILLed mid-run; every run must still be recorded once, with the metrics
// a local run of the same seed gives. A second case runs over TLS with a password.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Queue } from 'bullmq';
import Redis from 'ioredis';
import { RunStore } from '../workers/jobs/run-store';
import { JobService } from '../workers/jobs/job-service';
import { QueueCoordinator } from '../workers/queue/queue-coordinator';
import { bullConnection, parseQueueAddress, QueueAddressError, checkQueueReachable } from '../workers/queue/address';
import { CANCELLED_REASON, QUEUE_NAME, codeIdentity, localReference, queueKeys } from '../workers/queue/remote-job';
import { parseJson } from '../common/json';
import type { RunRecord } from '../common/api';

const root = join(__dirname, '..');
const cliPath = join(root, 'bin', 'benchtop.js');
const workerPath = join(root, 'out', 'main', 'lab-worker.js');
const tmp = mkdtempSync(join(tmpdir(), 'bt-queue-'));
// Short for the test (the default is 60 s); still far above a busy worker's renewal delay, which the sweep checks.
const LOCK_MS = 3000;
const children: ChildProcess[] = [];

const freePort = () => new Promise<number>((resolve) => { const s = createServer(); s.listen(0, '127.0.0.1', () => { const p = (s.address() as { port: number }).port; s.close(() => resolve(p)); }); });
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function until<T>(what: string, fn: () => T | undefined | false | Promise<T | undefined | false>, ms = 120_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const v = await fn();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(100);
  }
}

function startRedis(args: string[]): ChildProcess {
  if (spawnSync('which', ['redis-server']).status !== 0) throw new Error('redis-server is not installed: apt-get install redis-server (.ci/run does)');
  const child = spawn('redis-server', ['--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', ...args], { stdio: 'ignore' });
  children.push(child);
  return child;
}

const workersSeen: { child: ChildProcess; log: string[] }[] = [];

/** A `benchtop worker` process; its log lines are collected. */
function startWorker(name: string, queue: string, extra: string[] = []) {
  const log: string[] = [];
  const child = spawn(process.execPath, [cliPath, 'worker', '--queue', queue, '--cores', '1', ...extra], {
    cwd: root, env: { ...process.env, BENCHTOP_HOME: join(tmp, name), BENCHTOP_QUEUE_LOCK_MS: String(LOCK_MS) }, stdio: ['ignore', 'pipe', 'pipe'],
  });
  for (const s of [child.stdout!, child.stderr!]) s.on('data', (b: Buffer) => log.push(...b.toString().split('\n').filter(Boolean)));
  children.push(child);
  workersSeen.push({ child, log });
  return { child, log };
}

function coordinator(queueUrl: string, storeName: string) {
  const home = join(tmp, storeName);
  const store = new RunStore(join(home, 'benchtop.sqlite'));
  const remote = new QueueCoordinator(parseQueueAddress(queueUrl), { pollMs: 100 });
  const jobs = new JobService({ store, home, workerPath, host: 'test', remote, coreBudget: 2 });
  return { store, jobs, home };
}

/** The metrics that depend on the seed and params only (not on the machine's speed). */
const seededMetrics = (run: RunRecord) => Object.fromEntries(Object.entries(run.summary?.metrics ?? {}).filter(([k]) => k !== 'stepsPerSec'));

afterAll(() => { for (const c of children) { try { c.kill('SIGKILL'); } catch { /* gone */ } } });

describe('queue addresses and remote params', () => {
  it('parses redis:// and rediss:// with a password kept out of what is shown, and names a bad address', () => {
    const a = parseQueueAddress('redis://:s3cret@10.0.0.5:6380/2');
    expect(a.redis).toMatchObject({ host: '10.0.0.5', port: 6380, db: 2, password: 's3cret', tls: undefined });
    expect(a.shown).toBe('redis://:***@10.0.0.5:6380/2');
    expect(parseQueueAddress('rediss://queue.lab:6390').redis.tls).toEqual({ servername: 'queue.lab' });
    expect(() => parseQueueAddress('http://x:1')).toThrow(/scheme must be redis:\/\/ or rediss:\/\//);
    expect(() => parseQueueAddress('localhost:6379')).toThrow(QueueAddressError);
    expect(() => parseQueueAddress('redis://h:1/x')).toThrow(/database after the port/);
    expect(() => parseQueueAddress('redis://h:1', join(tmp, 'nope.pem'))).toThrow(/not TLS/);
    expect(() => parseQueueAddress('rediss://h:1', join(tmp, 'nope.pem'))).toThrow(/cannot be read \(ENOENT\)/);
    writeFileSync(join(tmp, 'junk.pem'), 'not a cert');
    expect(() => parseQueueAddress('rediss://h:1', join(tmp, 'junk.pem'))).toThrow(/no PEM certificate/);
    try { parseQueueAddress('ftp://:hunter2@h:1'); } catch (e) { expect((e as Error).message).not.toContain('hunter2'); }
  });

  it('refuses params that name local files or URLs, and only those', () => {
    expect(localReference({ onnxFolder: '/home/me/model', endpointUrl: '' })).toMatch(/param "onnxFolder" names a file or folder/);
    expect(localReference({ endpointUrl: 'http://127.0.0.1:8088' })).toMatch(/param "endpointUrl" names a URL/);
    expect(localReference({ models: ['ec', '../x'] })).toMatch(/param "models\[1\]"/);
    expect(localReference({ source: 'lm:stories:tiny', dataset: 'mnist', lambdas: [5e-5], ratio: '50:10:40' })).toBeUndefined();
  });
});

describe('benchtop worker and --queue, mistyped', () => {
  const cli = (...args: string[]) => spawnSync(process.execPath, [cliPath, ...args], { cwd: root, env: { ...process.env, BENCHTOP_HOME: join(tmp, 'usage') }, encoding: 'utf8', timeout: 60_000 });
  it('names the problem in one line and exits 2', async () => {
    const port = await freePort(); // nothing listens there
    const cases: [string[], RegExp][] = [
      [['worker'], /`benchtop worker` needs --queue redis:\/\/HOST:PORT/],
      [['worker', '--queue', 'redis://127.0.0.1:1', '--cores', '0'], /--cores "0" is not a whole number in 1…/],
      [['worker', '--queue', `redis://127.0.0.1:${port}`], /nothing listens at redis:\/\/127\.0\.0\.1:\d+/],
      [['worker', '--queu', 'redis://x:1'], /unknown option --queu .*did you mean --queue/],
      [['run', 'reference-classifier', '--queue', 'http://127.0.0.1:1'], /scheme must be redis:\/\/ or rediss:\/\//],
      [['run', 'reference-classifier', '--queue-ca', 'ca.pem'], /--queue-ca goes with --queue/],
    ];
    for (const [args, message] of cases) {
      const r = cli(...args);
      expect(r.status, args.join(' ')).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toMatch(message);
    }
  });
});

describe('sweeps on a BullMQ queue', () => {
  let url: string;
  beforeAll(async () => {
    const port = await freePort();
    startRedis(['--port', String(port)]);
    url = `redis://127.0.0.1:${port}`;
    await until('redis', async () => { try { await checkQueueReachable(parseQueueAddress(url)); return true; } catch { return false; } }, 20_000);
  });

  it('runs a 6-run sweep on two workers, one killed mid-run: each run recorded once, with a local run\'s metrics', async () => {
    const w1 = startWorker('w1', url), w2 = startWorker('w2', url);
    await until('both workers', () => w1.log.some((l) => l.includes('takes runs')) && w2.log.some((l) => l.includes('takes runs')), 60_000);
    const { store, jobs } = coordinator(url, 'coord');
    const runs = jobs.startSweep({ lab: 'reference-classifier', preset: 'smoke', param: 'learningRate', values: [0.003, 0.002], seeds: [1, 2, 3], params: {} });
    expect(runs).toHaveLength(6);
    expect(runs.every((r) => r.host.includes('→ redis://127.0.0.1'))).toBe(true);
    // Live progress reaches the coordinator's store while the runs are on the workers.
    await until('live progress', () => runs.some((r) => (store.getRun(r.id)?.progress?.done ?? 0) > 0));
    // Kill worker 1 in the middle of a run it holds.
    await until('worker 1 mid-run', () => w1.log.some((l) => /attempt 1/.test(l)));
    await sleep(1200);
    w1.child.kill('SIGKILL');
    const finals = await Promise.all(runs.map((r) => jobs.waitFor(r.id)));
    expect(finals.map((r) => r.status)).toEqual(Array(6).fill('succeeded'));
    expect(store.listRuns({ limit: 100 })).toHaveLength(6);
    // The killed worker's run was handed over and says so; the others ran once.
    // Exactly one: the run worker 1 held (one core); worker 2, busy all along, never lost a lock.
    const handedOver = finals.filter((r) => (r.provenance?.worker?.attempt ?? 1) > 1);
    expect(handedOver).toHaveLength(1);
    for (const r of handedOver) expect(store.getDetail(r.id)!.logs.some((l) => /starts the run over/.test(l.message))).toBe(true);
    for (const r of finals) {
      expect(r.provenance?.worker).toMatchObject({ arch: process.arch, queue: 'redis://127.0.0.1:' + url.split(':')[2] });
      expect(r.provenance?.platform).toBe(`${process.platform}-${process.arch}`);
      expect(existsSync(join(r.runDir, 'checkpoints', 'classifier.ckpt'))).toBe(true);
      expect(store.getDetail(r.id)!.metrics.testAccuracy?.length).toBeGreaterThan(0);
    }
    // The same seed and params run here give identical numbers: the handed-over run and one that ran once.
    const local = new JobService({ store: new RunStore(join(tmp, 'local', 'benchtop.sqlite')), home: join(tmp, 'local'), workerPath, host: 'test', coreBudget: 2 });
    const checked = [handedOver[0], finals.find((r) => (r.provenance?.worker?.attempt ?? 1) === 1)!];
    const mirrored = checked.map((r) => local.start({ lab: 'reference-classifier', preset: 'smoke', seed: r.seed, params: { learningRate: r.params.learningRate } }));
    const localFinals = await Promise.all(mirrored.map((r) => local.waitFor(r.id)));
    checked.forEach((r, i) => {
      expect(seededMetrics(r), `seed ${r.seed} lr ${r.params.learningRate}`).toEqual(seededMetrics(localFinals[i]));
    });
    for (const r of finals) expect(seededMetrics(r).testAccuracy).toBeGreaterThan(0.5);
    await local.shutdown();
    // Nothing of the finished runs stays in Redis but BullMQ's own job records.
    const client = new Redis(parseQueueAddress(url).redis);
    expect(await client.exists(...runs.flatMap((r) => [1, 2].flatMap((a) => [queueKeys.events(r.id, a), queueKeys.files(r.id, a), queueKeys.attempt(r.id, a)])))).toBe(0);
    client.disconnect();
    await jobs.shutdown();
  }, 240_000);

  it('cancels a running run on its worker and a waiting one in the queue; neither is retried', async () => {
    const w = startWorker('w3', url);
    await until('worker 3', () => w.log.some((l) => l.includes('takes runs')), 60_000);
    const { jobs, store } = coordinator(url, 'coord-cancel');
    // Worker 2 from the sweep test is still up: two workers, three runs; the third waits.
    const long = [1, 2, 3].map((seed) => jobs.start({ lab: 'reference-classifier', preset: 'default', seed, params: {} }, undefined, 'queue'));
    await until('two runs running', () => long.filter((r) => (store.getRun(r.id)?.progress?.done ?? 0) > 0).length >= 2);
    const waiting = long.find((r) => store.getRun(r.id)!.status === 'queued')!;
    const running = long.find((r) => (store.getRun(r.id)?.progress?.done ?? 0) > 0)!;
    expect((await jobs.cancel(waiting.id))?.status).toBe('cancelled');
    expect((await jobs.cancel(running.id))?.status).toBe('cancelled');
    const probe = new Queue(QUEUE_NAME, { connection: bullConnection(parseQueueAddress(url)) });
    expect(await probe.getJob(waiting.id)).toBeUndefined();
    const job = await probe.getJob(running.id);
    expect(job?.failedReason).toBe(CANCELLED_REASON);
    expect(await job?.getState()).toBe('failed');
    await sleep(LOCK_MS * 2);
    expect(await (await probe.getJob(running.id))?.getState()).toBe('failed');
    const third = long.find((r) => r !== waiting && r !== running)!;
    expect((await jobs.cancel(third.id))?.status).toBe('cancelled');
    await probe.close();
    await jobs.shutdown();
  }, 180_000);

  it('a frozen worker loses its run to another and, thawed, cancels its own copy: the run is recorded once, from the new attempt', async () => {
    const { jobs, store } = coordinator(url, 'coord-freeze');
    const live = [...children].filter((c) => c.exitCode === null && c.signalCode === null && c.spawnargs.includes('worker'));
    expect(live.length).toBeGreaterThanOrEqual(2);
    const run = jobs.start({ lab: 'reference-classifier', preset: 'smoke', seed: 11, params: { epochs: 10 } }, undefined, 'queue');
    await until('the run past its first epoch', () => (store.getRun(run.id)?.progress?.done ?? 0) > 40);
    const holder = await until('its worker', () => workersSeen.find((w) => w.log.some((l) => l.includes(run.id))));
    holder.child.kill('SIGSTOP');
    await until('the hand-over', () => store.getDetail(run.id)!.logs.some((l) => /attempt 2 .* starts the run over/.test(l.message)), 60_000);
    holder.child.kill('SIGCONT');
    const final = await jobs.waitFor(run.id);
    expect(final.status).toBe('succeeded');
    expect(final.provenance?.worker?.attempt).toBe(2);
    await until('the thawed worker cancels its copy', () => holder.log.some((l) => l.includes(`run ${run.id}: lost its lock`)), 30_000);
    expect(store.listRuns({ limit: 100 })).toHaveLength(1);
    // After the hand-over line, attempt 2's events only, each once: epochs 1…10 in order (the thawed copy's would break it).
    const logs = store.getDetail(run.id)!.logs;
    const from = logs.findIndex((l) => /starts the run over/.test(l.message));
    const epochs = logs.slice(from).flatMap((l) => /epoch (\d+)\/10 test accuracy/.exec(l.message)?.[1] ?? []).map(Number);
    expect(epochs).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(logs.slice(0, from).some((l) => /epoch 1\/10/.test(l.message))).toBe(true);
    await jobs.shutdown();
  }, 180_000);

  it('a worker on other code refuses a job with a message; the job is not retried', async () => {
    const probe = new Queue(QUEUE_NAME, { connection: bullConnection(parseQueueAddress(url)) });
    const job = (runId: string, rest: object) => ({ runId, lab: 'reference-classifier', preset: 'smoke', seed: 1, coordinator: 'test', ...rest });
    await probe.add('run', job('20261203000000-abcdef', { params: {}, build: '0000000older', labCodeVersion: 1 }), { jobId: '20261203000000-abcdef', attempts: 1 });
    const failed = await until('refusal', async () => { const j = await probe.getJob('20261203000000-abcdef'); return j?.failedReason ? j : undefined; }, 60_000);
    expect(failed.failedReason).toMatch(/refused the run: this worker runs commit .* but the run was made by commit 0000000older/);
    // The right code, but params the lab's schema rejects: checked on the worker too.
    await probe.add('run', job('20261203000001-abcdef', { params: { epochs: 999 }, ...codeIdentity('reference-classifier') }), { jobId: '20261203000001-abcdef' });
    const badParams = await until('bad params refused', async () => { const j = await probe.getJob('20261203000001-abcdef'); return j?.failedReason ? j : undefined; }, 60_000);
    expect(badParams.failedReason).toMatch(/refused the run: .*epochs/);
    await probe.add('run', { hello: 'world' }, { jobId: 'junk-1' });
    const junk = await until('junk refused', async () => { const j = await probe.getJob('junk-1'); return j?.failedReason ? j : undefined; }, 60_000);
    expect(junk.failedReason).toMatch(/not a Benchtop run \(runId:/);
    await probe.close();
  }, 120_000);
});

describe('a queue over TLS with a password', () => {
  it('runs `benchtop run --queue rediss://…` on a worker that trusts a self-signed CA; a wrong password or CA is named', async () => {
    const dir = join(tmp, 'tls');
    const ssl = (...args: string[]) => { const r = spawnSync('openssl', args, { cwd: tmp, encoding: 'utf8' }); if (r.status !== 0) throw new Error(r.stderr); };
    spawnSync('mkdir', ['-p', dir]);
    ssl('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '2', '-subj', '/CN=Benchtop test CA', '-keyout', join(dir, 'ca.key'), '-out', join(dir, 'ca.pem'));
    ssl('req', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=127.0.0.1', '-keyout', join(dir, 'server.key'), '-out', join(dir, 'server.csr'));
    writeFileSync(join(dir, 'san.ext'), 'subjectAltName=IP:127.0.0.1,DNS:localhost\n');
    ssl('x509', '-req', '-in', join(dir, 'server.csr'), '-CA', join(dir, 'ca.pem'), '-CAkey', join(dir, 'ca.key'), '-CAcreateserial', '-days', '2', '-extfile', join(dir, 'san.ext'), '-out', join(dir, 'server.pem'));
    const port = await freePort();
    startRedis(['--port', '0', '--tls-port', String(port), '--tls-cert-file', join(dir, 'server.pem'), '--tls-key-file', join(dir, 'server.key'),
      '--tls-ca-cert-file', join(dir, 'ca.pem'), '--tls-auth-clients', 'no', '--requirepass', 'pa55 word']);
    const url = `rediss://:${encodeURIComponent('pa55 word')}@127.0.0.1:${port}`;
    const ca = join(dir, 'ca.pem');
    await until('TLS redis', async () => { try { await checkQueueReachable(parseQueueAddress(url, ca)); return true; } catch { return false; } }, 20_000);
    const w = startWorker('w-tls', url, ['--queue-ca', ca]);
    await until('TLS worker', () => w.log.some((l) => l.includes('takes runs')), 60_000);
    const home = join(tmp, 'coord-tls');
    const runCli = (args: string[], env: Record<string, string> = {}) => spawnSync(process.execPath, [cliPath, 'run', 'reference-classifier', '--preset', 'smoke', ...args],
      { cwd: root, env: { ...process.env, BENCHTOP_HOME: home, ...env }, encoding: 'utf8', timeout: 120_000 });
    const run = runCli(['--seed', '7', '--queue', url, '--queue-ca', ca, '--json']);
    expect(run.status, run.stderr).toBe(0);
    const out = parseJson(run.stdout) as { metrics: Record<string, number>; runDir: string };
    expect(out.metrics.testAccuracy).toBeGreaterThan(0.5);
    const store = new RunStore(join(home, 'benchtop.sqlite'));
    const rec = store.listRuns()[0];
    expect(rec.provenance?.worker?.queue).toBe(`rediss://:***@127.0.0.1:${port}`);
    expect(JSON.stringify(rec)).not.toContain('pa55');
    store.close();
    const bad = (u: string, extra: string[]) => runCli(['--queue', u, ...extra], { BENCHTOP_QUEUE_CA: '' });
    const wrongPassword = bad(`rediss://:wrong@127.0.0.1:${port}`, ['--queue-ca', ca]);
    expect(wrongPassword.status).toBe(2);
    expect(wrongPassword.stderr).toMatch(/refused the password/);
    expect(wrongPassword.stderr).not.toContain('wrong@');
    const noCa = bad(url, []);
    expect(noCa.status).toBe(2);
    expect(noCa.stderr).toMatch(/TLS certificate is not trusted.*--queue-ca/);
    const notTls = bad(`redis://127.0.0.1:${port}`, []);
    expect(notTls.status).toBe(2);
    w.child.kill('SIGTERM');
  }, 180_000);
});
