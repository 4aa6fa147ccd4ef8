import { Controller, Get, Injectable, Param, Res } from '@nestjs/common';
import { ApiOkResponse, ApiParam, ApiTags, type OpenAPIObject } from '@nestjs/swagger';
import type { Response } from 'express';
import { NotFoundError } from '../common/rejection.js';
import { Public } from '../security/decorators.js';
import { API_TAGS } from './api-tags.js';
import { Answers } from './route-answers.js';
import {
  DOCS_ASSET_NAMES,
  DOCS_CSP,
  DOCS_PAGE,
  DOCS_PATH,
  DOCUMENT_FILE,
  loadDocsAssets,
  type DocsAsset,
} from './swagger-ui-assets.js';

/** The document of the app, built when first asked for (about 100 ms, off the start-up path). */
@Injectable()
export class ApiReference {
  private build: (() => OpenAPIObject) | undefined;
  private json: string | undefined;

  publish(build: () => OpenAPIObject): void {
    this.build = build;
    this.json = undefined;
  }

  documentJson(): string {
    if (!this.build) throw new NotFoundError('The API reference was not published');
    this.json ??= JSON.stringify(this.build());
    return this.json;
  }
}

const text = (type: string, description: string) => ({
  description,
  content: { [type]: { schema: { type: 'string' } } },
});

/** SPEC §12: the OpenAPI document and Swagger UI over it, public (they describe, never reveal). */
@ApiTags(API_TAGS.reference.name)
@Controller(DOCS_PATH)
@Public()
export class ApiReferenceController {
  private readonly assets = loadDocsAssets();

  constructor(private readonly reference: ApiReference) {}

  @Get()
  @ApiOkResponse(text('text/html', 'The browsable reference (Swagger UI)'))
  page(@Res() response: Response): void {
    this.send({ type: 'text/html; charset=utf-8', body: DOCS_PAGE }, response);
  }

  @Get(DOCUMENT_FILE)
  @ApiOkResponse({
    description: 'This document (OpenAPI 3.1)',
    content: { 'application/json': { schema: { type: 'object' } } },
  })
  document(@Res() response: Response): void {
    this.send({ type: 'application/json', body: this.reference.documentJson() }, response);
  }

  @Get('assets/:name')
  @ApiParam({ name: 'name', enum: DOCS_ASSET_NAMES })
  @ApiOkResponse(text('application/octet-stream', "A file of the reference's page"))
  @Answers(['not_found'])
  asset(@Param('name') name: string, @Res() response: Response): void {
    const asset = this.assets.get(name);
    if (!asset) throw new NotFoundError('No such asset');
    this.send(asset, response);
  }

  private send(asset: DocsAsset, response: Response): void {
    response
      .status(200)
      .set({
        'Content-Type': asset.type,
        'Content-Security-Policy': DOCS_CSP,
        'X-Content-Type-Options': 'nosniff',
        'Cache-Control': 'no-cache',
      })
      .send(asset.body);
  }
}
