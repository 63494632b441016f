import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

// No Docker engine runs here, so the image is checked as data: the Dockerfile's runtime stage, what the build
// context leaves out, and what the build puts in dist (which the runtime stage copies whole).
const root = new URL('../../', import.meta.url).pathname;
const dockerfile = readFileSync(path.join(root, 'Dockerfile'), 'utf8');
const runtime = dockerfile.slice(dockerfile.indexOf('AS runtime'));

describe('the production image', () => {
  it('runs as a non-root user, with production dependencies only and nothing but the build from the build stage', () => {
    expect(runtime).toMatch(/^USER node$/m);
    expect(runtime).toMatch(/npm install --omit=dev/);
    const copies = runtime.split('\n').filter((line) => line.startsWith('COPY'));
    expect(copies).toEqual(['COPY package.json package-lock.json ./', 'COPY --from=build /app/dist ./dist']);
    expect(runtime).toMatch(/NODE_ENV=production/);
  });

  it('is built from a context without history, tests, benchmarks, docs, secrets or test builders', () => {
    const ignored = readFileSync(path.join(root, '.dockerignore'), 'utf8').split('\n');
    for (const entry of ['.git', 'test', 'bench', 'docs', '.env', 'node_modules', '**/*.spec.ts', '**/*.int-spec.ts', '**/testing'])
      expect(ignored).toContain(entry);
  });

  // The runtime stage copies dist/ alone: whatever the api reads from disk must be built into it.
  it('serves the dashboard from dist: its files are copied there and the built module reads them there', async () => {
    const source = path.join(root, 'apps/api/src/dashboard/public');
    const built = path.join(root, 'dist/apps/api/src/dashboard');
    if (!existsSync(built)) throw new Error('dist is missing: run npm run build first');
    for (const name of readdirSync(source))
      expect([name, readFileSync(path.join(built, 'public', name), 'utf8')]).toEqual([name, readFileSync(path.join(source, name), 'utf8')]);
    const module = path.join(built, 'serve-dashboard.js');
    const { DASHBOARD_DIR } = (await import(module)) as { DASHBOARD_DIR: string };
    expect(DASHBOARD_DIR).toBe(path.join(built, 'public/'));
  });

  it('ships no test code in dist: no specs, no test builders (npm test builds before it runs this)', () => {
    const dist = path.join(root, 'dist');
    if (!existsSync(dist)) throw new Error('dist is missing: run npm run build first');
    const found: string[] = [];
    const walk = (dir: string) => {
      for (const name of readdirSync(dir)) {
        const full = path.join(dir, name);
        if (statSync(full).isDirectory()) {
          if (name === 'testing' || name === 'test') found.push(full);
          else walk(full);
        } else if (/\.(spec|int-spec|e2e-spec)\.js$/.test(name)) found.push(full);
      }
    };
    walk(dist);
    expect(found).toEqual([]);
  });
});
