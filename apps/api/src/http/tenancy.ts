import { type Caller, tenantOf } from '@splitstream/auth';
import { AppError, ErrorCode } from '@splitstream/errors';
import type { TenantsService } from '@splitstream/tenants';

// Whose rows a read names, for the lists and reads of per-app things (events, boosts): an app key only its own app
// (403 naming another); an admin key any app, a misspelt one a 404 naming it (it would otherwise look like an app
// that sent nothing). `named` is the query's `app`; `what` the rows' name, for the 403.

// A list's tenant: the named app, the key's own app, or null (an admin key's every app).
export async function listedTenant(caller: Caller, named: string | undefined, what: string, tenants: TenantsService): Promise<string | null> {
  const tenant = tenantOf(caller);
  if (named !== undefined && tenant !== null && named !== tenant)
    throw new AppError(ErrorCode.Forbidden, `an app key lists only its own app's ${what}: leave out app`);
  if (named !== undefined && tenant === null) await tenants.requireApp(named);
  return named ?? tenant;
}

// A read's app: the named one (an admin's), or the key's own.
export async function readApp(caller: Caller, named: string | undefined, what: string, tenants: TenantsService): Promise<string> {
  const app = named ?? caller.app;
  if (app !== caller.app && tenantOf(caller) !== null) throw new AppError(ErrorCode.Forbidden, `an app key reads only its own app's ${what}: leave out app`);
  if (named !== undefined && tenantOf(caller) === null) await tenants.requireApp(named);
  return app;
}
