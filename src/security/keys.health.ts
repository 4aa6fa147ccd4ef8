import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';
import { KeyStore } from './key-store.js';

/** Readiness of signature verification (SPEC §6): at least one module key is loaded. */
@Injectable()
export class KeysHealthIndicator {
  constructor(
    private readonly indicators: HealthIndicatorService,
    private readonly keys: KeyStore,
  ) {}

  areLoaded(key: string) {
    const session = this.indicators.check(key);
    return this.keys.hasKeys()
      ? session.up()
      : session.down({ message: 'no verification key is loaded (public.pem or modules/*.pem)' });
  }
}
