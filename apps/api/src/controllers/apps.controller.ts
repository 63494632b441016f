import { Controller, Get } from '@nestjs/common';
import { type Caller, CurrentCaller, RequireAnyKey } from '@splitstream/auth';
import { TenantsService } from '@splitstream/tenants';

@Controller('v1/apps')
export class AppsController {
  constructor(private readonly tenants: TenantsService) {}

  // What this key is: its app, scopes, spend caps and what the app has accepted today and this month (UTC).
  @Get('me')
  @RequireAnyKey()
  async me(@CurrentCaller() caller: Caller) {
    return { ...(await this.tenants.view(caller.app)), keyId: caller.keyId, scopes: caller.scopes };
  }
}
