import { OnWorkerEvent, WorkerHost } from '@nestjs/bullmq';
import { Logger } from '@nestjs/common';

// BullMQ workers print every Redis reconnection error to the console unless someone listens: log it once per
// distinct message instead, while the connection retries by itself.
export abstract class QuietWorkerHost extends WorkerHost {
  private readonly logger = new Logger(this.constructor.name);
  private lastError = '';

  @OnWorkerEvent('error')
  onError(error: Error): void {
    if (error.message === this.lastError) return;
    this.lastError = error.message;
    this.logger.warn(`Redis: ${error.message}`);
  }
}
