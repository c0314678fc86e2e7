import { describe, expect, it } from '@jest/globals';
import {
  AppError,
  ConflictError,
  ForbiddenError,
  NotFoundError,
  NotImplementedError,
  ServiceUnavailableError,
  TooManyRequestsError,
  UnauthorizedError,
  ValidationError,
  toErrorResponse,
} from '../../../shared/http/errors.ts';

describe('error hierarchy', () => {
  it.each([
    [new ValidationError([{ path: 'body.email', message: 'Invalid email' }]), 400, 'VALIDATION_ERROR'],
    [new UnauthorizedError(), 401, 'UNAUTHORIZED'],
    [new ForbiddenError(), 403, 'FORBIDDEN'],
    [new NotFoundError('Repository not found'), 404, 'NOT_FOUND'],
    [new ConflictError('Already connected'), 409, 'CONFLICT'],
    [new TooManyRequestsError(30), 429, 'RATE_LIMITED'],
    [new ServiceUnavailableError('No model configured', 'AI_NOT_CONFIGURED'), 503, 'AI_NOT_CONFIGURED'],
  ])('%p answers %i %s', (error, status, code) => {
    expect(error).toBeInstanceOf(AppError);
    const response = toErrorResponse(error);
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ error: error.message, code });
  });

  it('puts field issues and details beside error and code', () => {
    const body = toErrorResponse(new ValidationError([{ path: 'query.limit', message: 'Must be at most 100' }])).body;
    expect(body).toEqual({ error: 'The request is invalid', code: 'VALIDATION_ERROR', issues: [{ path: 'query.limit', message: 'Must be at most 100' }] });
  });

  it('does not let details overwrite error or code', () => {
    const body = toErrorResponse(new ConflictError('real', 'REAL', { error: 'fake', code: 'FAKE' })).body;
    expect(body).toMatchObject({ error: 'real', code: 'REAL' });
  });

  it('rounds Retry-After up to whole seconds, at least one', () => {
    expect(toErrorResponse(new TooManyRequestsError(0.2)).headers['Retry-After']).toBe('1');
    expect(toErrorResponse(new TooManyRequestsError(59.1)).headers['Retry-After']).toBe('60');
  });

  it('turns unknown errors, thrown strings and 5xx AppErrors into a generic 500', () => {
    for (const error of [new Error('secret detail'), 'a string', new NotImplementedError('Reports'), new AppError(502, 'UPSTREAM', 'upstream detail')]) {
      expect(toErrorResponse(error)).toEqual({ status: 500, headers: {}, body: { error: 'Internal server error', code: 'INTERNAL_ERROR' } });
    }
  });

  it('names errors after their class, for Step Functions Retry/Catch', () => {
    expect(new NotImplementedError('Reports')).toMatchObject({ name: 'NotImplementedError', code: 'NOT_IMPLEMENTED', message: 'Reports is not implemented yet' });
    expect(new ValidationError([]).name).toBe('ValidationError');
  });
});
