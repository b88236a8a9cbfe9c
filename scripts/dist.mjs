// `npm run dist`: the AppImage and deb, with electron-builder from the desktop toolchain's own
// install (desktop/, Node >= 22.12, `npm run desktop:install`, where Electron can be downloaded).
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const builder = join(root, 'desktop', 'node_modules', '.bin', 'electron-builder');
const electronPkg = join(root, 'desktop', 'node_modules', 'electron', 'package.json');
if (!existsSync(builder) || !existsSync(electronPkg)) {
  console.error('npm run dist needs the desktop toolchain: run `npm run desktop:install` (Node >= 22.12, network for the Electron download).');
  process.exit(1);
}
const run = (cmd, args) => { const r = spawnSync(cmd, args, { cwd: root, stdio: 'inherit' }); if (r.status !== 0) process.exit(r.status ?? 1); };
run(process.execPath, [join(root, 'scripts', 'build.mjs')]);
// electron-builder looks for electron in the app's own node_modules; name the installed one.
const { version } = JSON.parse(readFileSync(electronPkg, 'utf8'));
run(builder, ['--config', 'electron-builder.yml', `-c.electronVersion=${version}`, `-c.electronDist=${join(root, 'desktop', 'node_modules', 'electron', 'dist')}`]);
