import { Module } from '@nestjs/common';
import { AccumulationService } from './accumulation.service.js';
import { LedgerQueries } from './ledger-queries.service.js';

@Module({ providers: [AccumulationService, LedgerQueries], exports: [AccumulationService, LedgerQueries] })
export class LedgerModule {}
