import { once } from 'node:events';
import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import type { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { toExportLine } from '../provenance/chain-entry.js';
import { ChainRepository } from '../provenance/chain.repository.js';
import { fail, parseCli, runCli, wholeNumberFlag } from './cli-support.js';
import { EXIT, loadCliConfig, openChainDatabase, Progress } from './chain-cli-support.js';

const USAGE = `Usage: npm run chain:export -- --out FILE [--from K]

Streams the provenance chain from the database (DATABASE_URL, else the embedded database
under DATA_DIR) as JSON lines, one entry a line: the format of GET /provenance/export,
which npm run chain:verify -- --file FILE verifies offline. Memory stays bounded.

  --out FILE   where to write; "-" writes to stdout. The file is written as FILE.partial
               and renamed once complete, so a FILE is never a silently cut export.
  --from K     start at sequence K (default 1), e.g. to append to an earlier export`;

runCli(async () => {
  const flags = parseCli(
    { out: { type: 'string' }, from: { type: 'string', default: '1' }, help: { type: 'boolean' } },
    USAGE,
  );
  if (flags.help) return void console.log(USAGE);
  if (!flags.out) fail(`--out is required\n\n${USAGE}`, EXIT.usage);
  const from = wholeNumberFlag('from', flags.from, 1, USAGE);
  const toStdout = flags.out === '-';
  const partial = `${flags.out}.partial`;
  const database = await openChainDatabase(loadCliConfig());
  let out: Writable = process.stdout;
  if (!toStdout) {
    out = createWriteStream(partial);
    await once(out, 'open').catch(async (error: Error) => {
      await database.close();
      fail(`Cannot write ${partial}: ${error.message}`, EXIT.usage);
    });
  }
  const progress = new Progress('exported');
  try {
    for await (const page of new ChainRepository(database.dataSource).pages(from)) {
      // `once` rejects if the stream fails (e.g. the disk is full) while we wait for it.
      if (!out.write(`${page.map(toExportLine).join('\n')}\n`)) await once(out, 'drain');
      progress.add(page.length);
    }
    if (!toStdout) {
      out.end();
      await finished(out);
      await rename(partial, flags.out);
    }
  } catch (error) {
    if (!toStdout) await rm(partial, { force: true });
    await database.close().catch(() => undefined);
    fail(`Export failed: ${(error as Error).message}`, EXIT.unavailable);
  }
  await database.close();
  progress.finish();
  if (!toStdout) process.stderr.write(`wrote ${flags.out}\n`);
});
