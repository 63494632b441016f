import { Module } from '@nestjs/common';
import { FeedSources } from './feed-sources.js';
import { ValueResolution } from './value-resolution.service.js';
import { ValueBlockResolver } from './value-resolver.service.js';

@Module({ providers: [FeedSources, ValueBlockResolver, ValueResolution], exports: [ValueBlockResolver, ValueResolution] })
export class FeedsModule {}
