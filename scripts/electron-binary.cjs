// Finds the Electron executable without requiring the `electron` package, whose index
// tries to download the binary when it is missing (impossible offline). The package lives in
// the desktop toolchain's own install (desktop/, `npm run desktop:install`).
const { existsSync, readFileSync } = require('node:fs');
const { join, dirname } = require('node:path');

function electronBinary() {
  if (process.env.ELECTRON_EXEC_PATH && existsSync(process.env.ELECTRON_EXEC_PATH)) return process.env.ELECTRON_EXEC_PATH;
  let pkgDir;
  try { pkgDir = dirname(require.resolve('electron/package.json', { paths: [join(__dirname, '..', 'desktop')] })); } catch { return undefined; }
  const pathFile = join(pkgDir, 'path.txt');
  if (!existsSync(pathFile)) return undefined;
  const rel = readFileSync(pathFile, 'utf8').trim();
  const dist = process.env.ELECTRON_OVERRIDE_DIST_PATH || join(pkgDir, 'dist');
  const full = join(dist, rel);
  return existsSync(full) ? full : undefined;
}

module.exports = { electronBinary };
