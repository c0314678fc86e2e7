/** One field problem of a rejected input: a dotted path (`body.email`, `query.limit`) and what is wrong. */
export interface FieldIssue {
  readonly path: string;
  readonly message: string;
}

export type ErrorDetails = Readonly<Record<string, unknown>>;

/** The JSON body of every error answer. */
export interface ErrorBody {
  readonly error: string;
  readonly code: string;
  readonly [detail: string]: unknown;
}

/**
 * The one error type the platform raises on purpose. Its status, code, message and details are shown to the
 * caller when the status is below 500; anything else becomes a generic 500.
 */
export class AppError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ErrorDetails = {},
    readonly headers: Readonly<Record<string, string>> = {},
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = new.target.name;
  }

  /** `{ error, code, ...details }`. */
  toBody(): ErrorBody {
    return { ...this.details, error: this.message, code: this.code };
  }
}

export class ValidationError extends AppError {
  constructor(
    readonly issues: readonly FieldIssue[],
    message = 'The request is invalid',
  ) {
    super(400, 'VALIDATION_ERROR', message, { issues });
  }
}

export class BadRequestError extends AppError {
  constructor(message: string, code = 'BAD_REQUEST', details?: ErrorDetails) {
    super(400, code, message, details);
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'Authentication required', details?: ErrorDetails) {
    super(401, 'UNAUTHORIZED', message, details, { 'WWW-Authenticate': 'Bearer' });
  }
}

export class ForbiddenError extends AppError {
  constructor(message = 'Forbidden', code = 'FORBIDDEN', details?: ErrorDetails) {
    super(403, code, message, details);
  }
}

export class NotFoundError extends AppError {
  constructor(message = 'Not found', code = 'NOT_FOUND', details?: ErrorDetails) {
    super(404, code, message, details);
  }
}

export class ConflictError extends AppError {
  constructor(message: string, code = 'CONFLICT', details?: ErrorDetails) {
    super(409, code, message, details);
  }
}

export class UnsupportedMediaTypeError extends AppError {
  constructor(message = 'Content-Type must be application/json') {
    super(415, 'UNSUPPORTED_MEDIA_TYPE', message);
  }
}

export class TooManyRequestsError extends AppError {
  constructor(
    readonly retryAfterSeconds: number,
    message = 'Too many requests',
    code = 'RATE_LIMITED',
    details?: ErrorDetails,
  ) {
    const retryAfter = Math.max(1, Math.ceil(retryAfterSeconds));
    super(429, code, message, { ...details, retryAfter }, { 'Retry-After': String(retryAfter) });
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(message: string, code = 'SERVICE_UNAVAILABLE', details?: ErrorDetails) {
    super(503, code, message, details);
  }
}

/** Work the platform declares but does not do yet: fails loudly so no job pretends to succeed. */
export class NotImplementedError extends AppError {
  constructor(feature: string) {
    super(501, 'NOT_IMPLEMENTED', `${feature} is not implemented yet`);
  }
}

/** Throws a {@link NotImplementedError} for `feature`. */
export function notImplemented(feature: string): never {
  throw new NotImplementedError(feature);
}

export const INTERNAL_ERROR_BODY: ErrorBody = { error: 'Internal server error', code: 'INTERNAL_ERROR' };

/** Status, headers and body to answer for any thrown value; only AppErrors below 500 reveal their message. */
export function toErrorResponse(error: unknown): { status: number; headers: Record<string, string>; body: ErrorBody } {
  if (error instanceof AppError && error.status < 500) {
    return { status: error.status, headers: { ...error.headers }, body: error.toBody() };
  }
  if (error instanceof ServiceUnavailableError) {
    return { status: 503, headers: {}, body: error.toBody() };
  }
  return { status: 500, headers: {}, body: INTERNAL_ERROR_BODY };
}
