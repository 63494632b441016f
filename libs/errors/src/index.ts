export * from './error-code.js';
export { ErrorFilter, type ErrorResponse, errorResponse, isDatabaseUnavailable, sendError } from './error.filter.js';
export { WaitingCode } from './waiting-code.js';
