import { Global, Module } from '@nestjs/common';
import { APP_CONFIG, type AppConfig } from '@splitstream/config';
import { LnaddressClient } from './lnaddress-client.js';

export const LNADDRESS_CLIENT = Symbol('LNADDRESS_CLIENT');

@Global()
@Module({
  providers: [
    {
      provide: LNADDRESS_CLIENT,
      inject: [APP_CONFIG],
      useFactory: (config: AppConfig) =>
        new LnaddressClient({
          timeoutMs: config.LNADDRESS_TIMEOUT_MS,
          maxBodyBytes: config.LNADDRESS_MAX_BODY_BYTES,
          production: config.NODE_ENV === 'production',
          allowPrivate: config.OUTBOUND_ALLOW_PRIVATE,
          maxCltvExpiryBlocks: config.INVOICE_MAX_CLTV_EXPIRY_BLOCKS,
          ...(config.LNADDRESS_HOST_MAP && { hostMap: config.LNADDRESS_HOST_MAP }),
        }),
    },
  ],
  exports: [LNADDRESS_CLIENT],
})
export class LnaddressModule {}
