import { Module } from '@nestjs/common';
import { ApiReference, ApiReferenceController } from './api-reference.controller.js';

/** SPEC §12: the OpenAPI document of every route and the browsable reference at `/docs`. */
@Module({
  controllers: [ApiReferenceController],
  providers: [ApiReference],
  exports: [ApiReference],
})
export class ApiReferenceModule {}
