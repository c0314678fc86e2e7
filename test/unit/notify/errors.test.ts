import { describe, expect, it } from '@jest/globals';
import { classifySesError } from '../../../shared/notify/email.ts';
import { deliveryErrorForStatus, isTransientStatus, PermanentDeliveryError, TransientDeliveryError } from '../../../shared/notify/errors.ts';

describe('delivery error classes', () => {
  it.each([
    [429, true],
    [500, true],
    [502, true],
    [503, true],
    [400, false],
    [403, false],
    [404, false],
    [410, false],
  ])('HTTP %i is transient: %s', (status, transient) => {
    expect(isTransientStatus(status)).toBe(transient);
    const error = deliveryErrorForStatus('slack', status, 'invalid_token');
    expect(error).toBeInstanceOf(transient ? TransientDeliveryError : PermanentDeliveryError);
    expect(error).toMatchObject({ transient, status, channel: 'slack', message: `slack delivery failed with HTTP ${status}: invalid_token` });
  });

  it('bounds the service reason it quotes', () => {
    expect(deliveryErrorForStatus('slack', 400, 'x'.repeat(5000)).message.length).toBeLessThan(300);
    expect(deliveryErrorForStatus('slack', 400, '').message).toBe('slack delivery failed with HTTP 400');
  });
});

describe('SES error classification', () => {
  const sdkError = (name: string, status: number | undefined, fault?: 'client' | 'server') =>
    Object.assign(new Error(`${name} happened`), { name, $fault: fault, $metadata: status === undefined ? {} : { httpStatusCode: status } });

  it.each([
    ['TooManyRequestsException', 429, 'client', true],
    ['LimitExceededException', 400, 'client', true],
    ['InternalFailure', 500, 'server', true],
    ['ServiceUnavailable', 503, 'server', true],
    ['ECONNREFUSED', undefined, undefined, true],
    ['MessageRejected', 400, 'client', false],
    ['MailFromDomainNotVerifiedException', 400, 'client', false],
    ['NotFoundException', 404, 'client', false],
    ['AccessDeniedException', 403, 'client', false],
  ] as const)('%s (HTTP %s) is transient: %s', (name, status, fault, transient) => {
    const error = classifySesError(sdkError(name, status, fault));
    expect(error).toBeInstanceOf(transient ? TransientDeliveryError : PermanentDeliveryError);
    expect(error.channel).toBe('email');
    expect(error.message).toContain(name);
  });

  it('leaves the refused addresses out of the reason it logs', () => {
    expect(classifySesError(sdkError('MessageRejected', 400, 'client')).message).toBe('email delivery failed with HTTP 400: MessageRejected: MessageRejected happened');
    const withAddress = Object.assign(new Error('Email address is not verified. The following identities failed the check in region US-EAST-1: ada@example.com, bob@example.org'), {
      name: 'MessageRejected',
      $fault: 'client' as const,
      $metadata: { httpStatusCode: 400 },
    });
    expect(classifySesError(withAddress).message).toBe(
      'email delivery failed with HTTP 400: MessageRejected: Email address is not verified. The following identities failed the check in region US-EAST-1: <address>, <address>',
    );
  });
});
