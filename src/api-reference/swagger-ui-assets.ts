import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface DocsAsset {
  type: string;
  body: Buffer | string;
}

/** Same origin only; Swagger UI sets inline style attributes, so styles allow them. */
export const DOCS_CSP =
  "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; base-uri 'none'; frame-ancestors 'none'; form-action 'none'";

export const DOCS_PATH = '/docs';
export const DOCUMENT_FILE = 'openapi.json';
const DOCUMENT_PATH = `${DOCS_PATH}/${DOCUMENT_FILE}`;
const ASSETS_PATH = `${DOCS_PATH}/assets`;

/** The files of swagger-ui-dist the page needs, served by the app itself (no CDN). */
const SWAGGER_UI_FILES: Record<string, string> = {
  'swagger-ui.css': 'text/css; charset=utf-8',
  'swagger-ui-bundle.js': 'text/javascript; charset=utf-8',
  'favicon-32x32.png': 'image/png',
};

/** What `GET /docs/assets/:name` serves. */
export const DOCS_ASSET_NAMES = ['reference.js', ...Object.keys(SWAGGER_UI_FILES)];

const INIT_SCRIPT = `window.ui = SwaggerUIBundle({
  url: ${JSON.stringify(DOCUMENT_PATH)},
  dom_id: '#reference',
  deepLinking: true,
  validatorUrl: null,
  persistAuthorization: false,
});
`;

export const DOCS_PAGE = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Core–Bucket Bridge API reference</title>
<link rel="icon" type="image/png" href="${ASSETS_PATH}/favicon-32x32.png">
<link rel="stylesheet" href="${ASSETS_PATH}/swagger-ui.css">
</head>
<body>
<div id="reference"></div>
<script src="${ASSETS_PATH}/swagger-ui-bundle.js"></script>
<script src="${ASSETS_PATH}/reference.js"></script>
</body>
</html>
`;

/** The page's start script and the Swagger UI files, read once. */
export function loadDocsAssets(): Map<string, DocsAsset> {
  const dist = dirname(createRequire(import.meta.url).resolve('swagger-ui-dist/package.json'));
  const assets = new Map<string, DocsAsset>([
    ['reference.js', { type: 'text/javascript; charset=utf-8', body: INIT_SCRIPT }],
  ]);
  for (const [name, type] of Object.entries(SWAGGER_UI_FILES))
    assets.set(name, { type, body: readFileSync(join(dist, name)) });
  return assets;
}
