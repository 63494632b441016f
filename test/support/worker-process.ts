import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { type AppConfig, toEnvironment, WORKER_NODE_FLAGS } from '@splitstream/config';
import { eventually, PROCESS_BOOT_MS, request } from './http.js';
import { freePort } from './outages.js';

// The built worker as a real process, configured like the test's stack, on a free port; resolves once its
// /health answers 200 (or `healthStatus`: 503 for a worker whose wallet refuses it). `onOutput` receives its stdout
// and stderr (otherwise stderr goes to the test's).
export async function startWorkerProcess(
  config: AppConfig,
  options: { logLevel: string; onOutput?: (text: string) => void; healthStatus?: number },
): Promise<ChildProcess> {
  const port = await freePort();
  const env = toEnvironment(config);
  // With the heap limit it is deployed with, so the e2e specs run it as production does.
  const worker = spawn('node', [...WORKER_NODE_FLAGS, 'dist/apps/worker/src/main.js'], {
    env: { ...process.env, ...env, WORKER_PORT: String(port), WORKER_METRICS_PORT: '0', LOG_LEVEL: options.logLevel },
    stdio: ['ignore', options.onOutput ? 'pipe' : 'ignore', options.onOutput ? 'pipe' : 'inherit'],
  });
  for (const stream of [worker.stdout, worker.stderr]) stream?.on('data', (chunk: Buffer) => options.onOutput!(chunk.toString()));
  await eventually(
    () =>
      request(`http://127.0.0.1:${port}`, '/health').then(
        (r) => r.status,
        () => 0,
      ),
    (s) => s === (options.healthStatus ?? 200),
    PROCESS_BOOT_MS,
  );
  return worker;
}

// SIGKILL, and wait for the exit unless it already happened (exitCode stays null for a process ended by a signal).
export async function killWorkerProcess(worker: ChildProcess | undefined): Promise<void> {
  if (!worker || worker.exitCode !== null || worker.signalCode !== null) return;
  worker.kill('SIGKILL');
  await once(worker, 'exit');
}
