import 'reflect-metadata';
import { loadConfigOrExit } from '@splitstream/config';
import { MetricsServer } from '@splitstream/health';
import { createWorker } from './create-worker.js';

const config = loadConfigOrExit({ pays: true });
const app = await createWorker(config);
await app.listen(config.WORKER_PORT, config.WORKER_HOST);
console.log(`splitstream worker running; health on http://${config.WORKER_HOST}:${config.WORKER_PORT}/health`);
const metrics = app.get(MetricsServer, { strict: false }).url();
if (metrics) console.log(`splitstream worker metrics on ${metrics}/metrics (keep this port private)`);
