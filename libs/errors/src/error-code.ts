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
  AppDayCapExceeded = 'app_day_cap_exceeded', // the event would take the app over its daily spend cap
  AppMonthCapExceeded = 'app_month_cap_exceeded',
  ListenerDayCapExceeded = 'listener_day_cap_exceeded', // ... one listener (listenerId) over its daily cap
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
  [ErrorCode.AppDayCapExceeded]: 429,
  [ErrorCode.AppMonthCapExceeded]: 429,
  [ErrorCode.ListenerDayCapExceeded]: 429,
  [ErrorCode.ServiceUnavailable]: 503,
  [ErrorCode.InvariantBroken]: 500,
  [ErrorCode.InternalError]: 500,
};

export interface FieldIssue {
  path: string;
  message: string;
  index?: number; // the event's index in the request, for /v1/events
}

export interface ErrorBody {
  error: ErrorCode;
  message: string;
  issues?: FieldIssue[];
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
    return { error: this.code, message: this.message, ...(this.issues && { issues: this.issues }) };
  }

  static validation(issues: FieldIssue[], message = 'the request is invalid; nothing was changed'): AppError {
    return new AppError(ErrorCode.InvalidRequest, message, issues);
  }

  static notFound(what: string): AppError {
    return new AppError(ErrorCode.NotFound, `${what} not found`);
  }
}
