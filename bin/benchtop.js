#!/usr/bin/env node
// `benchtop` / `npx benchtop`: runs the built CLI, building it first if a fresh clone
// has not been built yet.
const { existsSync } = require('node:fs');
const { join } = require('node:path');
const { execFileSync } = require('node:child_process');
const root = join(__dirname, '..');
const entry = join(root, 'out', 'main', 'cli.js');
if (!existsSync(entry)) {
  process.stderr.write('benchtop: building (first run)…\n');
  execFileSync(process.execPath, [join(root, 'scripts', 'build.mjs')], { stdio: ['ignore', 2, 2], cwd: root });
}
require(entry).main(process.argv.slice(2)).then((code) => { if (code !== undefined) process.exitCode = code; });
