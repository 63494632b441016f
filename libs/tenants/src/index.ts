export { type AppCaps, capBreachError, capBreachOf, type CapBreach, capPeriods, type CapPeriods } from './spend-caps.js';
export { TenantsModule } from './tenants.module.js';
export { type CapsUpdate, TenantsService } from './tenants.service.js';
