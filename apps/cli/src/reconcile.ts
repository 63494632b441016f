import { Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { type AppConfig, ConfigModule } from '@splitstream/config';
import { MetricsModule } from '@splitstream/observability';
import { Reconciliation, ReconciliationModule } from '@splitstream/payouts';
import { PersistenceModule } from '@splitstream/persistence';
import { WalletModule } from '@splitstream/wallet';

// Reconciling pays through the wallet, whose clients and stores are wired by Nest modules: the one command that
// boots an application context (loaded only when it runs), with only the modules reconciling needs.
export async function reconcile(config: AppConfig) {
  @Module({ imports: [ConfigModule.forRoot(config), PersistenceModule, MetricsModule.forProcess('cli'), WalletModule, ReconciliationModule] })
  class ReconcileModule {}
  const app = await NestFactory.createApplicationContext(ReconcileModule, { logger: ['error'] });
  try {
    return await app.get(Reconciliation).reconcile();
  } finally {
    await app.close();
  }
}
