import { readFileSync } from 'node:fs';

// `npm install` (run by npm start and npm test) rewrites a lock file that disagrees with package.json, leaving a
// fresh clone dirty: the lock's root entry must say what package.json says.
describe('package-lock.json', () => {
  it('agrees with package.json (dependencies, devDependencies, engines)', () => {
    const pkg = JSON.parse(readFileSync('package.json', 'utf8'));
    const root = JSON.parse(readFileSync('package-lock.json', 'utf8')).packages[''];
    expect({ dependencies: root.dependencies, devDependencies: root.devDependencies, engines: root.engines }).toEqual({
      dependencies: pkg.dependencies,
      devDependencies: pkg.devDependencies,
      engines: pkg.engines,
    });
  });
});
