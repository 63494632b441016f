import { Module } from '@nestjs/common';
import { ApiKeysService } from './api-keys.service.js';
import { AuthGuard } from './auth.guard.js';
import { RateLimiter } from './rate-limiter.js';

@Module({ providers: [ApiKeysService], exports: [ApiKeysService] })
export class ApiKeysModule {}

// One ApiKeysService per process (from ApiKeysModule), so a key revoked through it leaves every cache at once.
@Module({ imports: [ApiKeysModule], providers: [RateLimiter, AuthGuard], exports: [ApiKeysModule, RateLimiter, AuthGuard] })
export class AuthModule {}
