import { loadConfig, ConfigError } from './config/app-config.js';
import { startBridge, type StartupLog } from './bootstrap.js';

const log: StartupLog = {
  log: (message) => console.log(JSON.stringify({ level: 'info', msg: message })),
  warn: (message) => console.warn(JSON.stringify({ level: 'warn', msg: message })),
};

function explain(error: unknown): string {
  if (error instanceof ConfigError) return error.message;
  const code = (error as NodeJS.ErrnoException).code;
  if (code === 'EADDRINUSE')
    return 'Cannot start: the port is already in use (set PORT to another port)';
  return `Cannot start: ${(error as Error).message}`;
}

async function main(): Promise<void> {
  const config = loadConfig();
  const bridge = await startBridge(config, log);
  log.log(
    `Core-Bucket Bridge listening on port ${config.port} (node ${config.nodeId}, ${config.environment})`,
  );

  let stopping = false;
  const stop = async (signal: NodeJS.Signals) => {
    if (stopping) return;
    stopping = true;
    log.log(`${signal} received: finishing requests in flight, then closing the database`);
    try {
      await bridge.close();
      process.exit(0);
    } catch (error) {
      console.error(explain(error));
      process.exit(1);
    }
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
}

main().catch((error: unknown) => {
  console.error(explain(error));
  process.exit(1);
});
