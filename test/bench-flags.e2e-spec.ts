import { runCompiledScript } from './support/chain-cli.js';
import { buildService } from './support/server-process.js';

/** The benchmarks' flags are read like every CLI's: a bad one ends the run at once with the usage text, never a stack trace. */
describe('npm run bench and bench:merkle flags', () => {
  beforeAll(() => buildService());

  const bench = (args: string[]) => runCompiledScript('dist/bench/run-bench.js', args, {});
  const merkle = (args: string[]) => runCompiledScript('dist/bench/merkle-bench.js', args, {});

  it('prints the usage for --help and exits 0 without starting anything', async () => {
    const result = await bench(['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(/^usage: npm run bench /);
    expect(result.stdout).toContain('--open-rate R');
  });

  it.each([
    [['--replicas', '0'], '--replicas must be a whole number of at least 1, not "0"'],
    [['--open-rate', 'fast'], '--open-rate must be a whole number of at least 1, not "fast"'],
    [['--duration', '2.5'], '--duration must be a whole number of at least 1, not "2.5"'],
    [['--connections', '1e3'], '--connections must be a whole number of at least 1, not "1e3"'],
    [['--dashboards=-1'], '--dashboards must be a whole number of at least 0, not "-1"'],
    [['--bogus'], "Unknown option '--bogus'"],
  ])('refuses %j with its reason and the usage', async (args, reason) => {
    const result = await bench(args);
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe(reason);
    expect(result.stderr).toContain('usage: npm run bench ');
    expect(result.stderr).not.toMatch(/\n\s+at /);
  });

  it('reads bench:merkle flags the same way', async () => {
    const result = await merkle(['--entries', '1e3x']);
    expect(result.code).toBe(2);
    expect(result.stderr).toMatch(/^--entries must be a whole number of at least 1, not "1e3x"\n/);
    expect((await merkle(['--help'])).stdout).toMatch(/^usage: npm run bench:merkle/);
  });
});
