import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
// @ts-expect-error plain JavaScript: it runs before dependencies (and types) are installed
import { inputsHash, STEPS } from '../../scripts/prepare.mjs';

// The stamps of npm start's preparation steps: a step runs again exactly when an input's content (or name) changed.
describe('the preparation steps of npm start and npm test', () => {
  const root = mkdtempSync(join(tmpdir(), 'prepare-'));
  afterAll(() => rmSync(root, { recursive: true, force: true }));
  const hash = () => inputsHash(['src', 'lock.json', 'absent.json'], 'salt', root);

  it('hash every input file, so any change, addition or rename is seen, and nothing else', () => {
    mkdirSync(join(root, 'src/a'), { recursive: true });
    writeFileSync(join(root, 'src/a/one.ts'), 'one');
    writeFileSync(join(root, 'lock.json'), '{}');
    const first = hash();
    expect(hash()).toBe(first);
    writeFileSync(join(root, 'elsewhere.ts'), 'not an input');
    expect(hash()).toBe(first);
    writeFileSync(join(root, 'src/a/one.ts'), 'One');
    const changed = hash();
    expect(changed).not.toBe(first);
    writeFileSync(join(root, 'src/a/two.ts'), '');
    expect(hash()).not.toBe(changed);
    rmSync(join(root, 'src/a/two.ts'));
    expect(hash()).toBe(changed);
    expect(inputsHash(['src', 'lock.json'], 'other salt', root)).not.toBe(changed);
  });

  it('cover what each step reads: the lock for all, the schema for the client, sources and tsconfig for the build', () => {
    expect(STEPS.install.inputs).toEqual(['package.json', 'package-lock.json']);
    expect(STEPS.generate.inputs).toEqual(expect.arrayContaining(['prisma/schema.prisma', 'package-lock.json']));
    expect(STEPS.build.inputs).toEqual(expect.arrayContaining(['apps', 'libs', 'tsconfig.json', 'tsconfig.build.json', 'package-lock.json']));
  });
});
