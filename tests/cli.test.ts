// The built CLI, as a user runs it: the JSON contract, exit codes, and one-line errors.
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, existsSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const root = join(__dirname, '..');
const home = mkdtempSync(join(tmpdir(), 'bt-cli-'));
const cli = (...args: string[]) => spawnSync(process.execPath, [join(root, 'bin', 'benchtop.js'), ...args], { cwd: root, env: { ...process.env, BENCHTOP_HOME: home }, encoding: 'utf8', timeout: 120_000 });

describe('benchtop CLI', () => {
  it('list --json names every lab with its metrics and checks', () => {
    const r = cli('list', '--json');
    expect(r.status).toBe(0);
    const labs = JSON.parse(r.stdout);
    expect(labs.map((l: { id: string }) => l.id)).toContain('reference-classifier');
  });

  it('run --json prints exactly one JSON object with the contract fields, into the shared store', () => {
    const r = cli('run', 'reference-classifier', '--preset', 'smoke', '--seed', '3', '--json');
    expect(r.status, r.stderr).toBe(0);
    const lines = r.stdout.trim().split('\n');
    expect(lines).toHaveLength(1);
    const out = JSON.parse(lines[0]);
    expect(Object.keys(out).sort()).toEqual(['backend', 'checks', 'durationMs', 'lab', 'metrics', 'params', 'peakRssMb', 'phaseMs', 'phaseUnits', 'preset', 'runDir', 'seed'].sort());
    // The profile: every phase the lab reported, each a share of the run's time.
    expect(Object.keys(out.phaseMs).length).toBeGreaterThan(0);
    expect(Object.values(out.phaseMs as Record<string, number>).reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(out.durationMs);
    expect(out).toMatchObject({ lab: 'reference-classifier', seed: 3, preset: 'smoke', backend: 'wasm' });
    for (const m of ['testAccuracy', 'testLoss', 'trainLoss', 'stepsPerSec']) expect(typeof out.metrics[m]).toBe('number');
    expect(typeof out.checks.accuracyAbove0p97).toBe('boolean');
    expect(out.metrics.testAccuracy).toBeGreaterThan(0.8); // a smoke run learns (0.86–0.93 over seeds 1–8; chance 0.1)
    expect(out.runDir.startsWith(join(home, 'runs'))).toBe(true);
    expect(existsSync(join(home, 'benchtop.sqlite'))).toBe(true);
    // report writes a self-contained HTML file carrying the data
    const rep = cli('report', out.runDir);
    expect(rep.status, rep.stderr).toBe(0);
    const html = readFileSync(rep.stdout.trim(), 'utf8');
    expect(html).toContain('"testAccuracy"');
    expect(html).not.toMatch(/<script[^>]+src=/);
  });

  it('invalid params exit 2 with one line naming the field', () => {
    for (const [args, field] of [[['--set', 'epochs=0'], '"epochs"'], [['--set', 'dataset=cifar'], '"dataset"'], [['--set', 'bogus=1'], '"bogus"'], [['--preset', 'huge'], '"preset"'], [['--seed', '-4'], '--seed "-4"']] as const) {
      const r = cli('run', 'reference-classifier', ...args, '--json');
      expect(r.status, r.stderr).toBe(2);
      expect(r.stderr.trim().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(field);
      expect(r.stdout).toBe('');
    }
  });

  it('--set takes JSON arrays (a lab\'s list params), validated per element; malformed JSON is named', () => {
    const bad = cli('run', 'ec-dit', '--preset', 'smoke', '--set', 'models=["ec","xx"]', '--json');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('"models.1"');
    const broken = cli('run', 'ec-dit', '--set', 'models=["ec"', '--json');
    expect(broken.status).toBe(2);
    expect(broken.stderr).toContain('is not valid JSON');
  });

  it('--set takes a list param as comma-separated items, as the form does (numbers converted, each item judged)', () => {
    const bad = cli('run', 'ec-dit', '--preset', 'smoke', '--set', 'models=ec, xx', '--json');
    expect(bad.status).toBe(2);
    expect(bad.stderr).toContain('"models.1"');
    // numeric items arrive as numbers: the schema's own rule (low ≤ high) is what refuses this one
    const reversed = cli('run', 'cot-dpo', '--preset', 'smoke', '--set', 'accuracyRange=0.9,0.2', '--json');
    expect(reversed.status).toBe(2);
    expect(reversed.stderr).toContain('[0.9, 0.2] is empty');
    const notNumber = cli('run', 'cot-dpo', '--preset', 'smoke', '--set', 'accuracyRange=0.2,high', '--json');
    expect(notNumber.status).toBe(2);
    expect(notNumber.stderr).toContain('"accuracyRange.1"');
  });

  it('--set seed=N is the run\'s seed (not silently seed 1); a reader that goes away cancels the run, recorded, quietly', () => {
    const r = cli('run', 'reference-classifier', '--preset', 'smoke', '--set', 'seed=4', '--set', 'epochs=1', '--json');
    expect(r.status, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout)).toMatchObject({ seed: 4, params: { seed: 4 } });
    // `2>&1 | head -1`: the first progress line is read, then the pipe closes.
    const piped = spawnSync('bash', ['-c', `node ${JSON.stringify(join(root, 'bin', 'benchtop.js'))} run reference-classifier --preset smoke --seed 6 2>&1 | head -1; echo "exit=\${PIPESTATUS[0]}"`],
      { cwd: root, env: { ...process.env, BENCHTOP_HOME: home }, encoding: 'utf8', timeout: 120_000 });
    const lines = piped.stdout.trim().split('\n');
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe('exit=1');
    expect(piped.stdout).not.toMatch(/EPIPE|Error/);
    const { Database } = require('node-sqlite3-wasm');
    const db = new Database(join(home, 'benchtop.sqlite'));
    const runs = db.all(`SELECT status FROM runs WHERE seed = 6`) as { status: string }[];
    db.close();
    expect(runs.map((x) => x.status)).toEqual(['cancelled']);
  });

  it('an unknown lab or command exits 2', () => {
    expect(cli('run', 'no-such-lab').status).toBe(2);
    expect(cli('frobnicate').status).toBe(2);
  });

  it('serve-lm names a missing folder, an unknown built-in LM and a mistyped flag, exit 2', () => {
    const missing = cli('serve-lm', '/no/such/model');
    expect(missing.status).toBe(2);
    expect(missing.stderr.trim()).toBe('model folder /no/such/model does not exist');
    const unknown = cli('serve-lm', 'lm:stories:huge');
    expect(unknown.status).toBe(2);
    expect(unknown.stderr).toMatch(/unknown built-in LM "lm:stories:huge" \(known: lm:stories:tiny, lm:stories:d128\)/);
    const flag = cli('serve-lm', '/x', '--prot', '8080');
    expect(flag.status).toBe(2);
    expect(flag.stderr).toMatch(/--prot/);
  });
});
