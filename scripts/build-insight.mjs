// Bundles the InsightFlow page (src/insight/web) into dist/insight: one script, one stylesheet
// (uPlot's included) and the HTML, all served by the app itself (SPEC §10).
import { copyFileSync, mkdirSync } from 'node:fs';
import { build } from 'esbuild';

const OUT = 'dist/insight';
mkdirSync(OUT, { recursive: true });
await build({
  entryPoints: { insight: 'src/insight/web/main.ts' },
  outdir: OUT,
  bundle: true,
  minify: true,
  format: 'esm',
  target: 'es2022',
  legalComments: 'none',
  logLevel: 'warning',
});
copyFileSync('src/insight/web/index.html', `${OUT}/index.html`);
