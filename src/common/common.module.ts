import { Global, Module, type MiddlewareConsumer, type NestModule } from '@nestjs/common';
import { ConnectionDrain } from './connection-drain.js';
import { LogMirror } from './log-mirror.js';

@Global()
@Module({ providers: [LogMirror, ConnectionDrain], exports: [LogMirror] })
export class CommonModule implements NestModule {
  constructor(private readonly drain: ConnectionDrain) {}

  configure(consumer: MiddlewareConsumer): void {
    // The provider instance (which receives the shutdown hook) serves as the middleware, so both
    // see the same draining flag; `apply(ConnectionDrain)` would build a second instance.
    consumer.apply(this.drain.use.bind(this.drain)).forRoutes('*');
  }
}
