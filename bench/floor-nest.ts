/**
 * The benchmark's framework floor: a NestJS app on Express with the service's bootstrap options
 * (no body parser up front, buffered logs, no `x-powered-by`), one `POST /core/update` route
 * behind a trivial global guard and an interceptor that reads the JSON body the way
 * SignedBodyInterceptor does (body-parser's json, after the guards). It answers a 201 of the
 * service's size and does no other work: what the framework costs per request. Env: PORT.
 */
import 'reflect-metadata';
import {
  Controller,
  HttpCode,
  Injectable,
  Module,
  Post,
  UseInterceptors,
  type CallHandler,
  type CanActivate,
  type ExecutionContext,
  type NestInterceptor,
} from '@nestjs/common';
import { APP_GUARD, NestFactory } from '@nestjs/core';
import bodyParser from 'body-parser';
import type { Request, Response } from 'express';
import type { Observable } from 'rxjs';
import { acceptedAnswer, FLOOR_BODY_LIMIT_BYTES, type FloorAnswer } from './floor-answer.js';

@Injectable()
class HeaderGuard implements CanActivate {
  canActivate(context: ExecutionContext): boolean {
    return context.switchToHttp().getRequest<Request>().headers.authorization !== undefined;
  }
}

@Injectable()
class BodyInterceptor implements NestInterceptor {
  private readonly parseJson = bodyParser.json({
    limit: FLOOR_BODY_LIMIT_BYTES,
    strict: true,
    type: 'application/json',
  });

  async intercept(context: ExecutionContext, next: CallHandler): Promise<Observable<unknown>> {
    const http = context.switchToHttp();
    const request = http.getRequest<Request>();
    if (!request.is('application/json')) throw new Error('not JSON');
    await new Promise<void>((resolve, reject) =>
      this.parseJson(request, http.getResponse<Response>(), (error?: unknown) =>
        error ? reject(error instanceof Error ? error : new Error('unreadable')) : resolve(),
      ),
    );
    return next.handle();
  }
}

@Controller()
class FloorController {
  @Post('core/update')
  @HttpCode(201)
  @UseInterceptors(BodyInterceptor)
  update(): FloorAnswer {
    return acceptedAnswer();
  }
}

@Module({
  controllers: [FloorController],
  providers: [{ provide: APP_GUARD, useClass: HeaderGuard }],
})
class FloorModule {}

const app = await NestFactory.create(FloorModule, {
  bodyParser: false,
  bufferLogs: true,
  logger: ['error', 'warn'],
});
app.getHttpAdapter().getInstance().disable('x-powered-by');
await app.listen(Number(process.env.PORT), '127.0.0.1');
process.once('SIGTERM', () => void app.close().then(() => process.exit(0)));
