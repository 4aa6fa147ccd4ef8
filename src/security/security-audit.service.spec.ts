import type { LogMirror } from '../common/log-mirror.js';
import { Rejection } from '../common/rejection.js';
import type { AppConfig } from '../config/app-config.js';
import { SecurityAudit } from './security-audit.service.js';
import type { RejectionRecord, SecurityEventRepository } from './security-event.repository.js';

describe('SecurityAudit', () => {
  let stored: RejectionRecord[];
  let mirrored: object[];
  let audit: SecurityAudit;

  beforeEach(() => {
    stored = [];
    mirrored = [];
    const events = {
      append: (records: RejectionRecord[]) => Promise.resolve(void stored.push(...records)),
    } as unknown as SecurityEventRepository;
    const mirror = {
      write: (_file: string, line: object) => void mirrored.push(line),
    } as unknown as LogMirror;
    audit = new SecurityAudit(events, mirror, { nodeId: 'node-1' } as AppConfig);
  });

  const reject = (path: string, address = '10.0.0.1') =>
    audit.record(new Rejection('missing_token', 'no token'), {
      method: 'GET',
      path,
      clientAddress: address,
    });
  const total = () => stored.reduce((sum, record) => sum + record.count, 0);

  it('stores repeats within a flush interval as one record with their count, logged twice', async () => {
    for (let i = 0; i < 500; i += 1) reject(`/same/${'x'.repeat(100)}/${i}`);
    reject('/other', '10.0.0.2');
    await audit.flush();
    expect(stored.map((record) => [record.path.slice(0, 6), record.count])).toEqual([
      ['/same/', 500],
      ['/other', 1],
    ]);
    expect(mirrored).toEqual([
      expect.not.objectContaining({ repeated: expect.anything() }),
      expect.objectContaining({ path: '/other' }),
      expect.objectContaining({ repeated: 499 }),
    ]);
  });

  it('folds what exceeds 10,000 distinct rejections per interval into one record per reason, counts exact', async () => {
    for (let i = 0; i < 10_500; i += 1) reject(`/p${i}`, `10.1.${i >> 8}.${i & 255}`);
    await audit.flush();
    expect(total()).toBe(10_500);
    expect(stored.length).toBeLessThanOrEqual(10_000);
    expect(stored[stored.length - 1]).toMatchObject({ path: '*', count: 501 });
    // 10,000 first lines, the folded record's first line and its `repeated` line.
    expect(mirrored).toHaveLength(10_002);
  });
});
