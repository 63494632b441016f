export { chargeSpend, chargesFor, type AppCaps, type Spend } from './spend-caps.js';
export { TenantsModule } from './tenants.module.js';
export { type CapsUpdate, TenantsService } from './tenants.service.js';
