// Runs scripts/build.mjs (= `npm run build`) only when a source file is newer than the last build,
// so `npm start` and the CLIs build "if needed" (SPEC §9) without paying for a compile on every call.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';

const SOURCES = [
  'src',
  'migrations',
  'plugins',
  'bench',
  'scripts/build.mjs',
  'scripts/build-insight.mjs',
  'tsconfig.json',
  'tsconfig.build.json',
  'package.json',
];

function newestMtime(path) {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return readdirSync(path).reduce(
    (newest, name) => Math.max(newest, newestMtime(join(path, name))),
    stat.mtimeMs,
  );
}

const STAMP = 'dist/.build-stamp';
const built = existsSync(STAMP) ? statSync(STAMP).mtimeMs : 0;
if (SOURCES.some((source) => newestMtime(source) > built)) {
  process.stderr.write('building (sources changed since the last build)...\n');
  const { status } = spawnSync(process.execPath, ['scripts/build.mjs'], { stdio: 'inherit' });
  if (status !== 0) process.exit(status ?? 1);
}
