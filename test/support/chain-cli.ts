import { execFile } from 'node:child_process';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs a compiled CLI, `dist/src/cli/<name>.cli.js` (build first with `buildService`), with `env`
 * on top of a clean environment, and resolves with its exit code and output.
 */
export function runCompiledCli(
  name: string,
  args: string[],
  env: Record<string, string>,
): Promise<CliResult> {
  return runCompiledScript(`dist/src/cli/${name}.cli.js`, args, env);
}

/** Runs any compiled script under `dist/` as `runCompiledCli` runs a CLI. */
export function runCompiledScript(
  script: string,
  args: string[],
  env: Record<string, string>,
): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [script, ...args],
      {
        env: { PATH: process.env.PATH ?? '', HOME: process.env.HOME ?? '/root', ...env },
        encoding: 'utf8',
        maxBuffer: 64 * 1024 * 1024,
      },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}
