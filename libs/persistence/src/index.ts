export { PersistenceModule } from './persistence.module.js';
export { PrismaService } from './prisma.service.js';
export { inTransaction, onConnection, type SqlClient, SQL_POOL_SIZE, SqlPool, transactionOn } from './sql-pool.service.js';
export { GroupCommit, type GroupCommitLimits, type GroupWork, inSavepoint, type Outcome } from './group-commit.js';
export { Prisma } from './generated/prisma/client.js';
export { pageOf } from './paging.js';
