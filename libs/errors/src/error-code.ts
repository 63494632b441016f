// Every error splitstream answers with, as a code clients can switch on, and the HTTP status it maps to.
// The body is always {error: <code>, message, issues?}: libs/errors is the only place codes are defined, and
// the api's one exception filter the only place they become HTTP.
export enum ErrorCode {
  InvalidRequest = 'invalid_request', // a field is invalid: `issues` names each
  InvalidJson = 'invalid_json',
  UnsupportedMediaType = 'unsupported_media_type',
  PayloadTooLarge = 'payload_too_large',
  HeadersTooLarge = 'headers_too_large',
  Unauthorized = 'unauthorized',
  Forbidden = 'forbidden',
  NotFound = 'not_found',
  Conflict = 'conflict',
  UnprocessableEvidence = 'unprocessable_evidence', // the proof offered does not prove the claim
  RateLimited = 'rate_limited',
  // The codes from here to ListenerIdRequired judge one event of POST /v1/events (its result's `code`, or an issue's
  // `code` in an events_rejected answer): never a whole request's.
  AppDayCapExceeded = 'app_day_cap_exceeded', // the event would take the app over its daily spend cap
  AppMonthCapExceeded = 'app_month_cap_exceeded',
  ListenerDayCapExceeded = 'listener_day_cap_exceeded', // ... one listener (listenerId) over its daily cap
  EventAmountTooLarge = 'event_amount_too_large', // an event is worth more than MAX_EVENT_SATS
  RequestAmountTooLarge = 'request_amount_too_large', // a request's events together are worth more than MAX_REQUEST_SATS
  ListenerIdRequired = 'listener_id_required', // the app has a listener cap and an event names no listenerId
  EventsRejected = 'events_rejected', // no event of a POST /v1/events request was stored: `issues` name each, with its code
  ServiceUnavailable = 'service_unavailable', // PostgreSQL, Redis or the wallet cannot be reached: retry later
  InvariantBroken = 'invariant_broken', // the ledger check found money that does not add up
  InternalError = 'internal_error',
}

export const HTTP_STATUS: Record<ErrorCode, number> = {
  [ErrorCode.InvalidRequest]: 400,
  [ErrorCode.InvalidJson]: 400,
  [ErrorCode.UnsupportedMediaType]: 415,
  [ErrorCode.PayloadTooLarge]: 413,
  [ErrorCode.HeadersTooLarge]: 431,
  [ErrorCode.Unauthorized]: 401,
  [ErrorCode.Forbidden]: 403,
  [ErrorCode.NotFound]: 404,
  [ErrorCode.Conflict]: 409,
  [ErrorCode.UnprocessableEvidence]: 422,
  [ErrorCode.RateLimited]: 429,
  [ErrorCode.AppDayCapExceeded]: 400,
  [ErrorCode.AppMonthCapExceeded]: 400,
  [ErrorCode.ListenerDayCapExceeded]: 400,
  [ErrorCode.EventAmountTooLarge]: 400,
  [ErrorCode.RequestAmountTooLarge]: 400,
  [ErrorCode.ListenerIdRequired]: 400,
  [ErrorCode.EventsRejected]: 400,
  [ErrorCode.ServiceUnavailable]: 503,
  [ErrorCode.InvariantBroken]: 500,
  [ErrorCode.InternalError]: 500,
};

export interface FieldIssue {
  path: string;
  message: string;
  index?: number; // the event's index in the request, for /v1/events
  code?: ErrorCode; // why that event was refused, in an events_rejected answer
}

export interface ErrorBody {
  error: ErrorCode;
  message: string;
  issues?: FieldIssue[];
}

// The one function every error body is built by (the filter, the hooks that answer before any route, the HTTP
// parser's errors, AppError itself): {error, message, issues?}, plus fields a route adds beside it (a health
// report, the ledger check's problems).
export function errorBody<T extends object = object>(code: ErrorCode, message: string, issues?: FieldIssue[], extra?: T): ErrorBody & T {
  return { ...(extra as T), error: code, message, ...(issues && { issues }) };
}

// The status framework exceptions (Nest's HttpException, Fastify's own errors without a known code) are answered
// with keeps its number, and is labelled explicitly here: a status that is not listed is `invalid_request` (4xx)
// or `internal_error` (5xx). Never derived from HTTP_STATUS, where several codes share one status (429 is
// rate_limited, not a spend cap; 400 is invalid_request, not invalid_json).
export const FRAMEWORK_STATUS_CODES: Readonly<Record<number, ErrorCode>> = {
  400: ErrorCode.InvalidRequest,
  401: ErrorCode.Unauthorized,
  403: ErrorCode.Forbidden,
  404: ErrorCode.NotFound,
  409: ErrorCode.Conflict,
  413: ErrorCode.PayloadTooLarge,
  415: ErrorCode.UnsupportedMediaType,
  422: ErrorCode.InvalidRequest,
  429: ErrorCode.RateLimited,
  431: ErrorCode.HeadersTooLarge,
  500: ErrorCode.InternalError,
  502: ErrorCode.ServiceUnavailable,
  503: ErrorCode.ServiceUnavailable,
  504: ErrorCode.ServiceUnavailable,
};

export function codeForStatus(status: number): ErrorCode {
  return FRAMEWORK_STATUS_CODES[status] ?? (status < 500 ? ErrorCode.InvalidRequest : ErrorCode.InternalError);
}

// A failure with a code, thrown anywhere and answered by the filter; `retryAfterSeconds` becomes Retry-After.
export class AppError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly issues?: FieldIssue[],
    readonly retryAfterSeconds?: number,
  ) {
    super(message);
    this.name = 'AppError';
  }

  get status(): number {
    return HTTP_STATUS[this.code];
  }

  body(): ErrorBody {
    return errorBody(this.code, this.message, this.issues);
  }

  static validation(issues: FieldIssue[], message = 'the request is invalid; nothing was changed'): AppError {
    return new AppError(ErrorCode.InvalidRequest, message, issues);
  }

  static notFound(what: string): AppError {
    return new AppError(ErrorCode.NotFound, `${what} not found`);
  }
}
