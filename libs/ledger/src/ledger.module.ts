import { Module } from '@nestjs/common';
import { AccumulationService } from './accumulation.service.js';
import { ApplyBatcher } from './apply-batcher.js';
import { LedgerQueries } from './ledger-queries.service.js';

@Module({ providers: [AccumulationService, ApplyBatcher, LedgerQueries], exports: [AccumulationService, ApplyBatcher, LedgerQueries] })
export class LedgerModule {}
