export * from './error-code.js';
export { ErrorFilter, isDatabaseUnavailable } from './error.filter.js';
