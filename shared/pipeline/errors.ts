import { AppError, type ErrorDetails } from '../http/errors.ts';

/** Error name of {@link ScanRefusedError}; the scan workflow does not retry a step that fails with it. */
export const SCAN_REFUSED_ERROR = 'ScanRefusedError';

/**
 * A scan that cannot succeed however often it is retried: a hostile or oversized archive, a commit or repository
 * that does not exist, an invalid `.codeguardian.yml`. The message is the scan's failure reason.
 */
export class ScanRefusedError extends AppError {
  override readonly name = SCAN_REFUSED_ERROR;

  constructor(message: string, code: string, details?: ErrorDetails) {
    super(422, code, message, details);
  }
}
