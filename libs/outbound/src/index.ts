export { ipLiteral, isGlobalUnicast } from './address.js';
export {
  GuardedHttp,
  OutboundError,
  type GetOptions,
  type GuardedHttpOptions,
  type OutboundFailure,
  type OutboundResponse,
  type ResolvedAddress,
  type Resolver,
} from './guarded-http.js';
