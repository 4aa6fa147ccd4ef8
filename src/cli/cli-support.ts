import { parseArgs, type ParseArgsConfig } from 'node:util';
import { ConfigError } from '../config/app-config.js';

/** Parses flags; unknown flags or missing values end the command with its usage text. */
export function parseCli<T extends ParseArgsConfig['options']>(options: T, usage: string) {
  try {
    return parseArgs({ options, strict: true, allowPositionals: false }).values;
  } catch (error) {
    fail(`${(error as Error).message}\n\n${usage}`);
  }
}

/** A whole-number flag's value, or its fallback when absent; anything but a whole number ≥ `minimum` ends the command with its usage text. */
export function wholeNumberFlag(
  name: string,
  value: string | undefined,
  fallback: number,
  usage: string,
  minimum = 1,
): number {
  if (value === undefined) return fallback;
  // Digits only: Number() alone would also take "1e3", "0x10" and " 5 ".
  const number = /^\d{1,15}$/.test(value) ? Number(value) : Number.NaN;
  if (!(number >= minimum))
    fail(
      `--${name} must be a whole number of at least ${minimum}, not ${JSON.stringify(value)}\n\n${usage}`,
    );
  return number;
}

/** Ends a CLI with a clear message and a non-zero exit code, never a stack trace. */
export function fail(message: string, exitCode = 2): never {
  process.stderr.write(`${message.trimEnd()}\n`);
  process.exit(exitCode);
}

/** Runs a CLI body, turning configuration and other errors into clear messages. */
export function runCli(main: () => Promise<void> | void): void {
  Promise.resolve()
    .then(main)
    .catch((error: unknown) =>
      fail(error instanceof ConfigError ? error.message : `Error: ${(error as Error).message}`, 1),
    );
}

/** A dashboard link's token lives this long unless told otherwise. */
export const INSIGHT_TTL_SECONDS = 900;

/** The InsightFlow link of the bridge at `baseUrl`: the token rides in the fragment, which the browser never sends. */
export function insightLink(baseUrl: string, token: string): string {
  return `${baseUrl.replace(/\/+$/, '')}/insight#token=${token}`;
}
