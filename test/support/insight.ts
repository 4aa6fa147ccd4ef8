import { execFileSync } from 'node:child_process';

/** Bundles the InsightFlow page into dist/insight (esbuild, well under a second). */
export function buildInsightPage(): void {
  execFileSync(process.execPath, ['scripts/build-insight.mjs'], { stdio: 'inherit' });
}
