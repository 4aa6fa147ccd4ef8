import { existsSync, readFileSync } from 'node:fs';
import semver from 'semver';

interface LockedPackage {
  version?: string;
  engines?: { node?: unknown };
}

interface DeclaredRange {
  name: string;
  range: string;
}

const lock = JSON.parse(readFileSync('package-lock.json', 'utf8')) as {
  packages: Record<string, LockedPackage>;
};
const project = JSON.parse(readFileSync('package.json', 'utf8')) as { engines: { node: string } };

/** The Node range each installed package declares: package-lock.json entries present on disk. */
const declaredRanges: DeclaredRange[] = Object.entries(lock.packages).flatMap(([path, entry]) =>
  path !== '' && existsSync(path) && typeof entry.engines?.node === 'string'
    ? [
        {
          name: `${path.replace(/^(.*\/)?node_modules\//, '')}@${entry.version}`,
          range: entry.engines.node,
        },
      ]
    : [],
);

const describeRange = ({ name, range }: DeclaredRange): string => `${name} wants node ${range}`;

describe('the Node versions the installed packages declare', () => {
  it('are read from the installed tree', () => {
    expect(declaredRanges.length).toBeGreaterThan(100);
    expect(declaredRanges.map(({ name }) => name)).toContainEqual(
      expect.stringMatching(/^@nestjs\/core@/),
    );
  });

  it('all accept the running Node, so `npm ci` prints no EBADENGINE warning', () => {
    const refusing = declaredRanges.filter(
      ({ range }) => !semver.satisfies(process.version, range),
    );
    expect(refusing.map(describeRange)).toEqual([]);
  });

  it('all accept every Node that package.json `engines` names, and the running Node is one of them', () => {
    expect(semver.satisfies(process.version, project.engines.node)).toBe(true);
    const narrower = declaredRanges.filter(
      ({ range }) => !semver.subset(project.engines.node, range),
    );
    expect(narrower.map(describeRange)).toEqual([]);
  });
});
