import 'reflect-metadata';
import { loadConfigOrExit } from '@splitstream/config';
import { MetricsServer } from '@splitstream/health';
import { createApi } from './create-api.js';

const config = loadConfigOrExit();
const app = await createApi(config);
await app.listen(config.API_PORT, config.API_HOST);
console.log(`splitstream api listening on http://${config.API_HOST}:${config.API_PORT}`);
const metrics = app.get(MetricsServer, { strict: false }).url();
if (metrics) console.log(`splitstream api metrics on ${metrics}/metrics (keep this port private)`);
