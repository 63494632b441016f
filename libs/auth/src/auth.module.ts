import { Module } from '@nestjs/common';
import { ApiKeysService } from './api-keys.service.js';
import { AuthGuard } from './auth.guard.js';
import { RateLimiter } from './rate-limiter.js';

@Module({ providers: [ApiKeysService, RateLimiter, AuthGuard], exports: [ApiKeysService, RateLimiter, AuthGuard] })
export class AuthModule {}

@Module({ providers: [ApiKeysService], exports: [ApiKeysService] })
export class ApiKeysModule {}
