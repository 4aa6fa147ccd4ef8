import type { AddressInfo } from 'node:net';
import type { Provider } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { DataSource } from 'typeorm';
import type { AppConfig } from '../config/app-config.js';
import { APP_CONFIG } from '../config/config.module.js';
import { keyPaths } from '../security/key-files.js';
import { senderTokens } from '../security/sender-tokens.js';
import { TokenService } from '../security/token.service.js';
import { AUTOMATION_HOST, type AutomationHost } from './automation-host.js';
import { BridgeClient } from '../client/bridge-client.js';
import { DatabaseRoundTripRepository } from './engine/database-round-trip.repository.js';
import { SigningKey } from '../client/signing-key.js';

/**
 * Plugins inside the service talk to this replica itself over loopback, so a node job probes the
 * replica it runs on (through a load balancer it could land on any other).
 */
export const serviceHostProvider: Provider = {
  provide: AUTOMATION_HOST,
  inject: [APP_CONFIG, HttpAdapterHost, TokenService, DataSource],
  useFactory: (
    config: AppConfig,
    adapterHost: HttpAdapterHost,
    tokens: TokenService,
    dataSource: DataSource,
  ): AutomationHost => ({
    nodeId: config.nodeId,
    bridgeUrl: () => ownUrl(adapterHost),
    tokens: senderTokens(
      config,
      tokens,
      BridgeClient.automationModule(config.nodeId),
      'automation',
    ),
    signingKey: new SigningKey(keyPaths(config.keysDir).privateKey),
    database: new DatabaseRoundTripRepository(dataSource),
  }),
};

function ownUrl(adapterHost: HttpAdapterHost): string {
  const address = adapterHost.httpAdapter?.getHttpServer()?.address() as AddressInfo | null;
  if (!address || typeof address !== 'object') throw new Error('the service is not listening yet');
  const wildcard = address.address === '::' || address.address === '0.0.0.0';
  const host = wildcard ? '127.0.0.1' : address.address;
  return `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
}
