import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';

// The lib graph as the source says it is: every import of the libs' own code (type-only ones too, which ESLint's
// no-cycle skips; specs, testing/ builders and Prisma's generated client aside), by @splitstream/<name> or by a
// relative path that leaves the lib.
const TEST_FILE = /\.(spec|int-spec|e2e-spec)\.ts$/;

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return entry.name === 'testing' || entry.name === 'generated' ? [] : sources(path);
    return entry.name.endsWith('.ts') && !TEST_FILE.test(entry.name) ? [path] : [];
  });
}

// The libs a file imports (its own lib left out).
function libsImportedBy(file: string): string[] {
  const own = /^libs\/([\w-]+)\//.exec(relative('.', file))?.[1];
  const { importedFiles } = ts.preProcessFile(readFileSync(file, 'utf8'), true, true);
  return importedFiles
    .map(({ fileName }) => {
      const alias = /^@splitstream\/([\w-]+)/.exec(fileName);
      if (alias) return alias[1];
      if (!fileName.startsWith('.')) return undefined;
      return /^libs\/([\w-]+)\//.exec(relative('.', resolve(dirname(file), fileName)))?.[1];
    })
    .filter((lib): lib is string => lib !== undefined && lib !== own);
}

function importsOf(dirs: string[]): Set<string> {
  return new Set(dirs.flatMap((dir) => sources(dir).flatMap(libsImportedBy)));
}

const LIBS = readdirSync('libs');
const GRAPH = new Map(LIBS.map((lib) => [lib, importsOf([`libs/${lib}/src`])]));

function closure(start: Iterable<string>): Set<string> {
  const seen = new Set<string>();
  const visit = (lib: string) => {
    if (seen.has(lib)) return;
    seen.add(lib);
    for (const next of GRAPH.get(lib) ?? []) visit(next);
  };
  for (const lib of start) visit(lib);
  return seen;
}

function findCycle(graph: Map<string, Set<string>>): string[] | undefined {
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (lib: string, path: string[]): string[] | undefined => {
    if (state.get(lib) === 'done') return undefined;
    if (state.get(lib) === 'visiting') return [...path.slice(path.indexOf(lib)), lib];
    state.set(lib, 'visiting');
    for (const next of graph.get(lib) ?? []) {
      const cycle = visit(next, [...path, lib]);
      if (cycle) return cycle;
    }
    state.set(lib, 'done');
    return undefined;
  };
  for (const lib of graph.keys()) {
    const cycle = visit(lib, []);
    if (cycle) return cycle;
  }
  return undefined;
}

describe('the lib graph', () => {
  it('reads the imports it checks', () => {
    expect(LIBS).toEqual(expect.arrayContaining(['config', 'ingestion', 'ledger', 'observability', 'persistence', 'queue', 'wallet']));
    expect([...GRAPH.get('ingestion')!]).toEqual(expect.arrayContaining(['ledger', 'persistence', 'queue']));
  });

  it('has no cycle between libs', () => {
    expect(findCycle(GRAPH)).toBeUndefined();
  });

  it('finds a cycle when there is one', () => {
    expect(
      findCycle(
        new Map([
          ['a', new Set(['b'])],
          ['b', new Set(['c'])],
          ['c', new Set(['b'])],
        ]),
      ),
    ).toEqual(['b', 'c', 'b']);
  });

  it('keeps observability a leaf: it imports no lib but config', () => {
    expect([...GRAPH.get('observability')!].filter((lib) => lib !== 'config')).toEqual([]);
  });

  it('keeps Prisma and BullMQ out of the wallet and the NWC simulator', () => {
    const wallet = closure(['wallet']);
    const nwcSim = closure(importsOf(['apps/nwc-sim/src']));
    for (const reached of [wallet, nwcSim]) {
      expect([...reached].filter((lib) => lib === 'persistence' || lib === 'queue')).toEqual([]);
    }
    expect(nwcSim).toContain('wallet');
  });
});
