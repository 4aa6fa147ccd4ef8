import { watch, type FSWatcher } from 'node:fs';
import {
  Inject,
  Injectable,
  Logger,
  type OnModuleDestroy,
  type OnModuleInit,
} from '@nestjs/common';
import { APP_CONFIG } from '../config/config.module.js';
import type { AppConfig } from '../config/app-config.js';
import {
  readVerificationKeys,
  verificationKeyDirectories,
  verificationKeysFor,
  type NamedKey,
  type VerificationKeys,
} from './verification-keys.js';

/** Editors and Secret mounts change files in bursts (symlink swaps); reload once it settles. */
const RELOAD_DEBOUNCE_MS = 200;

/**
 * The public keys that verify module signatures (SPEC §2): a module's own keys when it has any
 * (`modules/<module>/*.pem`, `modules/<module>.pem`; then only they verify that module), else
 * `public.pem`. Loaded at start and re-read on SIGHUP or when the files change; a broken file, or
 * a module over `MAX_KEYS_PER_MODULE`, keeps the previous keys and logs why.
 */
@Injectable()
export class KeyStore implements OnModuleInit, OnModuleDestroy {
  private readonly logger = new Logger(KeyStore.name);
  private keys: VerificationKeys = { shared: [], perModule: new Map() };
  /** On `KEYS_DIR`, `modules/` and each module's key folder. */
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

  /** The keys one of which must verify a payload of `module`, in the order to try; none → refuse. */
  keysFor(module: string): readonly NamedKey[] {
    return verificationKeysFor(this.keys, module);
  }

  /** True when at least one verification key is loaded (readiness). */
  hasKeys(): boolean {
    return this.keys.shared.length > 0 || this.keys.perModule.size > 0;
  }

  /** Modules with keys of their own. */
  moduleKeyCount(): number {
    return this.keys.perModule.size;
  }

  reload(trigger: string): void {
    // Watches first: a file written after them triggers another reload, one written before is read.
    this.watchKeyDirectories();
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

  /**
   * Watches anew on every read: a module key folder may have appeared or gone, and a Secret
   * volume's update swaps in new folders under the same paths, which old watches would not see.
   */
  private watchKeyDirectories(): void {
    this.watchers.forEach((watcher) => watcher.close());
    this.watchers = [];
    for (const dir of verificationKeyDirectories(this.config.keysDir)) {
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
    const shared = this.keys.shared.length > 0 ? 'public.pem' : 'no public.pem';
    const moduleKeys = [...this.keys.perModule.values()].reduce(
      (sum, keys) => sum + keys.length,
      0,
    );
    this.logger.log(
      `verification keys ${action}: ${shared}, ${moduleKeys} module key(s) for ${this.keys.perModule.size} module(s)`,
    );
  }
}
