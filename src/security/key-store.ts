import type { KeyObject } from 'node:crypto';
import { existsSync, watch, type FSWatcher } from 'node:fs';
import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import { keyPaths } from './key-files.js';
import {
  readVerificationKeys,
  verificationKeyFor,
  type VerificationKeys,
} from './verification-keys.js';

/** Editors and Secret mounts change files in bursts (symlink swaps); reload once it settles. */
const RELOAD_DEBOUNCE_MS = 200;

/**
 * The public keys that verify module signatures (SPEC §2): `modules/<module>.pem` when present
 * (then only that key verifies that module), else `public.pem`. Loaded at start and re-read on
 * SIGHUP or when the files change; a broken file keeps the previous keys and logs why.
 */
@Injectable()
export class KeyStore implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(KeyStore.name);
  private keys: VerificationKeys = { shared: undefined, perModule: new Map() };
  private watchers: FSWatcher[] = [];
  private reloadTimer: NodeJS.Timeout | undefined;
  private readonly onHangup = () => this.reload('SIGHUP');

  constructor(@Inject(APP_CONFIG) private readonly config: AppConfig) {}

  onModuleInit(): void {
    this.keys = this.readKeys();
    this.logKeys('loaded');
    process.on('SIGHUP', this.onHangup);
    this.watchKeyDirectories();
  }

  onModuleDestroy(): void {
    process.off('SIGHUP', this.onHangup);
    clearTimeout(this.reloadTimer);
    this.watchers.forEach((watcher) => watcher.close());
    this.watchers = [];
  }

  /** The key that must verify a payload of `module`, or undefined when none is configured. */
  keyFor(module: string): KeyObject | undefined {
    return verificationKeyFor(this.keys, module);
  }

  /** True when at least one verification key is loaded (readiness). */
  hasKeys(): boolean {
    return this.keys.shared !== undefined || this.keys.perModule.size > 0;
  }

  moduleKeyCount(): number {
    return this.keys.perModule.size;
  }

  reload(trigger: string): void {
    try {
      this.keys = this.readKeys();
      this.logKeys(`reloaded (${trigger})`);
    } catch (error) {
      this.logger.error(
        `key reload (${trigger}) failed, keeping the previous keys: ${(error as Error).message}`,
      );
    }
  }

  private readKeys(): VerificationKeys {
    return readVerificationKeys(this.config.keysDir);
  }

  private watchKeyDirectories(): void {
    const paths = keyPaths(this.config.keysDir);
    for (const dir of [this.config.keysDir, paths.moduleKeysDir]) {
      if (!existsSync(dir)) continue;
      try {
        const watcher = watch(dir, () => this.scheduleReload());
        watcher.on('error', (error) =>
          this.logger.warn(`watching ${dir} stopped: ${error.message}`),
        );
        this.watchers.push(watcher);
      } catch (error) {
        this.logger.warn(
          `cannot watch ${dir} (${(error as Error).message}); SIGHUP still reloads keys`,
        );
      }
    }
  }

  private scheduleReload(): void {
    clearTimeout(this.reloadTimer);
    this.reloadTimer = setTimeout(() => this.reload('file change'), RELOAD_DEBOUNCE_MS);
    this.reloadTimer.unref();
  }

  private logKeys(action: string): void {
    const shared = this.keys.shared ? 'public.pem' : 'no public.pem';
    this.logger.log(
      `verification keys ${action}: ${shared}, ${this.keys.perModule.size} module key(s)`,
    );
  }
}
