import { loadServiceConfig, ConfigError } from './config/app-config.js';
import type { StartupLog } from './bootstrap.js';
import { createStartupLogger } from './common/logging.js';

function explain(error: unknown): string {
  if (error instanceof ConfigError) return error.message;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE')
    return 'Cannot start: the port is already in use (set PORT to another port)';
  return `Cannot start: ${(error as Error).message}`;
}

async function main(): Promise<void> {
  // Every configuration problem (environment, job file, port) before the database starts.
  const config = await loadServiceConfig();
  const logger = createStartupLogger(config);
  const log: StartupLog = {
    log: (message) => logger.info(message),
    warn: (message) => logger.warn(message),
  };
  // Loaded after the checks, so a configuration mistake is reported without loading the app.
  const { startBridge } = await import('./bootstrap.js');
  const bridge = await startBridge(config, log);
  // The pid is what SIGHUP (reload keys) and SIGTERM go to; under `npm start` it is not npm's.
  log.log(
    `Core-Bucket Bridge listening on port ${config.port} (node ${config.nodeId}, ${config.environment}, pid ${process.pid})`,
  );

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    // At warn, so that it shows also under LOG_LEVEL=warn: an operator wants to see every stop.
    log.warn(`${signal} received: finishing requests in flight, then closing the database`);
    try {
      await bridge.close();
      process.exit(0);
    } catch (error) {
      console.error(explain(error));
      process.exit(1);
    }
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(explain(error));
  process.exit(1);
});
