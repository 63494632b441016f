export { type AppCaps, capBreachOf, capBreachRejection, type CapBreach, capPeriods, type CapPeriods, chargeSpend } from './spend-caps.js';
export { TenantsModule } from './tenants.module.js';
export { type CapsUpdate, TenantsService } from './tenants.service.js';
