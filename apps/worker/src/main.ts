import 'reflect-metadata';
import { loadConfigOrExit } from '@splitstream/config';
import { createWorker } from './create-worker.js';

const config = loadConfigOrExit({ pays: true });
const app = await createWorker(config);
await app.listen(config.WORKER_PORT, config.WORKER_HOST);
console.log(`splitstream worker running; health on http://${config.WORKER_HOST}:${config.WORKER_PORT}/health`);
