import { Module } from '@nestjs/common';
import { FeedsModule } from '@splitstream/feeds';
import { TenantsModule } from '@splitstream/tenants';
import { BoostQueries } from './boost-queries.service.js';
import { BoostValues } from './boost-values.service.js';
import { BoostsService } from './boosts.service.js';

// The api's side: boost intake and reads.
@Module({ imports: [TenantsModule], providers: [BoostsService, BoostQueries], exports: [BoostsService, BoostQueries] })
export class BoostsModule {}

// The worker's side: finding the blocks of boosts sent by reference.
@Module({ imports: [FeedsModule], providers: [BoostValues, BoostQueries], exports: [BoostValues, BoostQueries] })
export class BoostValuesModule {}
