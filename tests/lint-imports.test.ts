import { describe, expect, it } from 'vitest';
import { mkdtempSync, mkdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error plain ESM script without types
import { checkImports } from '../scripts/lint-imports.mjs';

describe('import-direction lint rule', () => {
  it('the repository obeys it', () => {
    expect(checkImports(join(__dirname, '..'))).toEqual([]);
  });
  it('catches each kind of violation', () => {
    const root = mkdtempSync(join(tmpdir(), 'bt-lint-'));
    const put = (p: string, src: string) => { mkdirSync(join(root, p, '..'), { recursive: true }); writeFileSync(join(root, p), src); };
    put('common/a.ts', `import { x } from '../workers/runtime/rng';\nimport { readFileSync } from 'node:fs';\n`);
    put('workers/labs/x/lab.ts', `import { app } from 'electron';\nimport React from 'react';\nimport { y } from '../../../renderer/src/App';\n`);
    put('renderer/src/b.tsx', `import { z } from '../../workers/jobs/run-store';\nimport * as tf from '@tensorflow/tfjs';\nconst m = await import('../../cli/index');\n`);
    put('workers/ok.ts', `import { z } from 'zod';\nimport { a } from '../common/api';\n`);
    put('tests/t.test.ts', `import { app } from 'electron';\nimport { ok } from '../electron/main/policy';\nimport { r } from '../workers/jobs/run-store';\n`);
    put('e2e/x.spec.ts', `import { App } from '../renderer/src/App';\nimport { s } from '../workers/jobs/run-store';\n`);
    put('bench/b.ts', `import { P } from '../renderer/src/panels/ec-dit';\n`);
    put('scripts/s.mjs', `import { x } from '../workers/runtime/rng';\nimport { spawn } from 'node:child_process';\n`);
    const v: string[] = checkImports(root);
    expect(v).toHaveLength(12);
    expect(v.join('\n')).toMatch(/tests\/t.test.ts:1: tests may not import "electron"/);
    expect(v.join('\n')).toMatch(/e2e\/x.spec.ts:1: e2e may not import renderer/);
    expect(v.join('\n')).toMatch(/bench\/b.ts:1: bench may not import renderer/);
    expect(v.join('\n')).toMatch(/scripts\/s.mjs:1: scripts may not import workers/);
    expect(v.join('\n')).toMatch(/common\/a.ts:1: common may not import workers/);
    expect(v.join('\n')).toMatch(/common\/a.ts:2: common may not import "node:fs"/);
    expect(v.join('\n')).toMatch(/lab.ts:1: workers may not import "electron"/);
    expect(v.join('\n')).toMatch(/renderer\/src\/b.tsx:3: renderer may not import cli/);
  });
});
