import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Served with every InsightFlow answer: nothing but this origin, no inline script or style. */
export const INSIGHT_CSP =
  "default-src 'self'; img-src 'self' data:; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

export interface InsightAsset {
  type: string;
  body: Buffer;
}

const TYPES: Record<string, string> = {
  'index.html': 'text/html; charset=utf-8',
  'insight.js': 'text/javascript; charset=utf-8',
  'insight.css': 'text/css; charset=utf-8',
};

/** The package root: the nearest folder above this file with a package.json (src/ or dist/src/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json')) && dirname(dir) !== dir) dir = dirname(dir);
  return dir;
}

/** The page as `npm run build` bundled it into dist/insight, read once. */
export function loadInsightAssets(
  dir = join(packageRoot(), 'dist', 'insight'),
): Map<string, InsightAsset> {
  const assets = new Map<string, InsightAsset>();
  for (const [name, type] of Object.entries(TYPES)) {
    const path = join(dir, name);
    if (existsSync(path)) assets.set(name, { type, body: readFileSync(path) });
  }
  return assets;
}
