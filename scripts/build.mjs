// `npm run build`: a clean dist/ compiled by tsc from tsconfig.build.json, then the InsightFlow page
// bundled into dist/insight (scripts/build-insight.mjs), then dist/.build-stamp, which
// scripts/build-if-stale.mjs compares with the sources.
import { execFileSync } from 'node:child_process';
import { rmSync, writeFileSync } from 'node:fs';

rmSync('dist', { recursive: true, force: true });
execFileSync(process.execPath, ['node_modules/typescript/bin/tsc', '-p', 'tsconfig.build.json'], {
  stdio: 'inherit',
});
execFileSync(process.execPath, ['scripts/build-insight.mjs'], { stdio: 'inherit' });
writeFileSync('dist/.build-stamp', new Date().toISOString());
