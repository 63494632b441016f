import { Module } from '@nestjs/common';
import { TenantsModule } from '@splitstream/tenants';
import { IngestionService } from './ingestion.service.js';

@Module({ imports: [TenantsModule], providers: [IngestionService], exports: [IngestionService] })
export class IngestionModule {}
