export * from './queue.contracts.js';
export { JobQueue } from './job-queue.service.js';
export { QueueModule } from './queue.module.js';
