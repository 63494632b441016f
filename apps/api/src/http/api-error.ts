import { HttpException, HttpStatus } from '@nestjs/common';

export interface FieldIssue {
  path: string;
  message: string;
  index?: number; // the event's index in the request, for /v1/events
}

// The one error body every route answers with: {error, message, issues?}.
export class ApiError extends HttpException {
  constructor(status: HttpStatus, code: string, message: string, issues?: FieldIssue[]) {
    super({ error: code, message, ...(issues && { issues }) }, status);
  }

  static validation(issues: FieldIssue[], message = 'the request is invalid; nothing was changed'): ApiError {
    return new ApiError(HttpStatus.BAD_REQUEST, 'invalid_request', message, issues);
  }

  static notFound(what: string): ApiError {
    return new ApiError(HttpStatus.NOT_FOUND, 'not_found', `${what} not found`);
  }
}
