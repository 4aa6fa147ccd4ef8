import { Global, Module } from '@nestjs/common';
import { LogMirror } from './log-mirror.js';

@Global()
@Module({ providers: [LogMirror], exports: [LogMirror] })
export class CommonModule {}
