import { Module } from '@nestjs/common';
import { ApiKeysService } from './api-keys.service.js';
import { AuthGuard } from './auth.guard.js';
import { IngestionRateLimiter } from './ingestion-rate-limiter.js';

@Module({ providers: [ApiKeysService, IngestionRateLimiter, AuthGuard], exports: [ApiKeysService, IngestionRateLimiter, AuthGuard] })
export class AuthModule {}

@Module({ providers: [ApiKeysService], exports: [ApiKeysService] })
export class ApiKeysModule {}
