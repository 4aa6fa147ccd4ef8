import { readFileSync } from 'node:fs';
import { AdvisoryLock } from './advisory-lock.js';

describe('AdvisoryLock', () => {
  it('is the key ingest_events takes for the chain lock', () => {
    const sql = readFileSync(new URL('../provenance/ingest-events.sql', import.meta.url), 'utf8');
    const keys = [...sql.matchAll(/pg_(?:try_)?advisory_(?:xact_)?lock\((\d+)\)/g)].map(([, key]) =>
      Number(key),
    );
    expect(keys).toEqual([AdvisoryLock.ChainAppend]);
  });

  it('gives every concern a key of its own', () => {
    const keys = Object.values(AdvisoryLock).filter((value) => typeof value === 'number');
    expect(new Set(keys).size).toBe(keys.length);
    expect(keys).toHaveLength(4);
  });
});
