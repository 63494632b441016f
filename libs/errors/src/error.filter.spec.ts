import { jest } from '@jest/globals';
import {
  BadRequestException,
  Logger,
  ConflictException,
  ForbiddenException,
  HttpException,
  InternalServerErrorException,
  MethodNotAllowedException,
  NotFoundException,
  PayloadTooLargeException,
  ServiceUnavailableException,
  UnauthorizedException,
  UnprocessableEntityException,
  UnsupportedMediaTypeException,
} from '@nestjs/common';
import { AppError, codeForStatus, ErrorCode, errorBody, FRAMEWORK_STATUS_CODES, HTTP_STATUS } from './error-code.js';
import { errorResponse, isDatabaseUnavailable } from './error.filter.js';

describe('isDatabaseUnavailable', () => {
  it.each([
    { name: 'PrismaClientInitializationError', message: "Can't reach database server" },
    { code: 'P1001', message: 'x' },
    { message: 'Raw query failed. Code: `N/A`. Message: `Server has closed the connection.`' },
    { message: 'wrapped', cause: { code: 'ECONNREFUSED' } },
    { message: 'Connection terminated unexpectedly' },
    { message: 'terminating connection due to administrator command', code: '57P01' },
    // pg's client after its connection broke (the group-commit transaction's connection, mid-outage)
    { message: 'Client has encountered a connection error and is not queryable' },
  ])('recognises %p as PostgreSQL being away (503)', (error) => {
    expect(isDatabaseUnavailable(error)).toBe(true);
  });

  it.each([{ message: 'duplicate key value violates unique constraint', code: '23505' }, new Error('boom'), null, 'text'])(
    'does not mistake %p for an outage',
    (error) => {
      expect(isDatabaseUnavailable(error)).toBe(false);
    },
  );
});

describe('the status-to-code map and the one error body', () => {
  it.each([
    [new BadRequestException('x'), 400, 'invalid_request'],
    [new UnauthorizedException(), 401, 'unauthorized'],
    [new ForbiddenException(), 403, 'forbidden'],
    [new NotFoundException('Cannot GET /nope'), 404, 'not_found'],
    [new MethodNotAllowedException(), 405, 'invalid_request'],
    [new ConflictException(), 409, 'conflict'],
    [new PayloadTooLargeException(), 413, 'payload_too_large'],
    [new UnsupportedMediaTypeException(), 415, 'unsupported_media_type'],
    [new UnprocessableEntityException(), 422, 'invalid_request'],
    [new HttpException('slow down', 429), 429, 'rate_limited'],
    [new HttpException('big headers', 431), 431, 'headers_too_large'],
    [new InternalServerErrorException(), 500, 'internal_error'],
    [new ServiceUnavailableException(), 503, 'service_unavailable'],
    [new HttpException('teapot', 418), 418, 'invalid_request'],
    [new HttpException('odd', 599), 599, 'internal_error'],
  ])('%p answers %i %s', (exception, status, code) => {
    const { status: answered, body } = errorResponse(exception);
    expect([answered, body.error]).toEqual([status, code]);
    expect(Object.keys(body).sort()).toEqual(['error', 'message']);
  });

  it('labels every status explicitly: 400 is never invalid_json, 429 never a spend cap', () => {
    expect(FRAMEWORK_STATUS_CODES[400]).toBe(ErrorCode.InvalidRequest);
    expect(FRAMEWORK_STATUS_CODES[429]).toBe(ErrorCode.RateLimited);
    for (const [status, code] of Object.entries(FRAMEWORK_STATUS_CODES)) {
      // A code a framework status maps to answers with that status itself, except 422 (a framework's own
      // validation failure, not refused evidence) and 5xx gateway errors that mean "retry".
      if (!['422', '500', '502', '504'].includes(status)) expect([status, HTTP_STATUS[code]]).toEqual([status, Number(status)]);
    }
    expect(codeForStatus(402)).toBe(ErrorCode.InvalidRequest);
    expect(codeForStatus(507)).toBe(ErrorCode.InternalError);
  });

  it.each([
    [{ code: 'FST_ERR_BAD_URL', statusCode: 400, message: 'not a valid url component' }, 400, 'invalid_request'],
    [{ code: 'FST_ERR_CTP_INVALID_JSON_BODY', statusCode: 400, message: 'Unexpected token' }, 400, 'invalid_json'],
    [{ code: 'FST_ERR_CTP_BODY_TOO_LARGE', statusCode: 413, message: 'Request body is too large' }, 413, 'payload_too_large'],
    [{ code: 'FST_ERR_SOMETHING_NEW', statusCode: 429, message: 'x' }, 429, 'rate_limited'],
    [{ statusCode: 404, message: 'Route GET:/x not found' }, 404, 'not_found'],
  ])("Fastify's %p answers %i %s", (error, status, code) => {
    const { status: answered, body } = errorResponse(Object.assign(new Error(error.message), error));
    expect([answered, body.error]).toEqual([status, code]);
  });

  it('answers anything unexpected with a bare 500 and no internals', () => {
    // The error itself is logged for operators (with its stack); the test keeps that out of its output.
    const logged = jest.spyOn(Logger.prototype, 'error').mockImplementation(() => undefined);
    expect(errorResponse(new Error('secret: password=hunter2'))).toEqual({
      status: 500,
      body: { error: 'internal_error', message: 'an unexpected error occurred' },
    });
    expect(logged).toHaveBeenCalled();
    logged.mockRestore();
  });

  it('builds AppError bodies with the same function', () => {
    const issues = [{ path: 'events[0].id', message: 'is required' }];
    expect(AppError.validation(issues, 'bad').body()).toEqual(errorBody(ErrorCode.InvalidRequest, 'bad', issues));
    expect(errorBody(ErrorCode.NotFound, 'gone', undefined, { error: 'overridden', extra: 1 })).toEqual({ error: 'not_found', message: 'gone', extra: 1 });
  });
});
