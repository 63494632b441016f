import { Module } from '@nestjs/common';
import { TerminusModule } from '@nestjs/terminus';
import { HealthController } from './health.controller.js';
import { MetricsController } from './metrics.controller.js';
import { RedisHealthIndicator } from './redis.health.js';
import { WalletHealthIndicator } from './wallet.health.js';

@Module({
  imports: [TerminusModule.forRoot({ logger: false })],
  controllers: [HealthController, MetricsController],
  providers: [RedisHealthIndicator, WalletHealthIndicator],
})
export class HealthModule {}
