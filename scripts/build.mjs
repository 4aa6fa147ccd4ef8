// `npm run build`: a clean dist/ compiled by tsc from tsconfig.build.json, then the InsightFlow page
// bundled into dist/insight (scripts/build-insight.mjs), then dist/.build-stamp, which
// scripts/build-if-stale.mjs compares with the sources. A failing step ends the build with its code.
import { spawnSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';

function step(script, ...args) {
  const { status } = spawnSync(process.execPath, [script, ...args], { stdio: 'inherit' });
  if (status !== 0) process.exit(status ?? 1);
}

rmSync('dist', { recursive: true, force: true });
step('node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json');
step('scripts/build-insight.mjs');
writeFileSync('dist/.build-stamp', new Date().toISOString());
