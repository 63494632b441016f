export { defineJob, type JobContract, type JobData } from './queue.contracts.js';
export { JobProcessor } from './job-processor.js';
export { JobQueue } from './job-queue.service.js';
export { QueueModule } from './queue.module.js';
