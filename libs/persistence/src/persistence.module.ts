import { Global, Module } from '@nestjs/common';
import { PrismaService } from './prisma.service.js';
import { SqlPool } from './sql-pool.service.js';

@Global()
@Module({ providers: [PrismaService, SqlPool], exports: [PrismaService, SqlPool] })
export class PersistenceModule {}
