import { Module } from '@nestjs/common';
import { TenantsModule } from '@splitstream/tenants';
import { BoostQueries } from './boost-queries.service.js';
import { BoostsService } from './boosts.service.js';

@Module({ imports: [TenantsModule], providers: [BoostsService, BoostQueries], exports: [BoostsService, BoostQueries] })
export class BoostsModule {}
