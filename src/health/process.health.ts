import { Injectable } from '@nestjs/common';
import { HealthIndicatorService } from '@nestjs/terminus';

/**
 * Liveness: this process answers HTTP. It deliberately checks nothing else (never the
 * database), so an outage elsewhere makes replicas unready, not restarted.
 */
@Injectable()
export class ProcessHealthIndicator {
  constructor(private readonly indicators: HealthIndicatorService) {}

  isAlive(key: string) {
    return this.indicators.check(key).up({ uptime_seconds: Math.round(process.uptime()) });
  }
}
