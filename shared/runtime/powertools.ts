import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import type { Tracer } from '@aws-lambda-powertools/tracer';
import { captureLambdaHandler } from '@aws-lambda-powertools/tracer/middleware';
import type { MiddlewareObj } from '@middy/core';
import { redactSecrets } from '../domain/mask.ts';

const SERVICE = process.env.POWERTOOLS_SERVICE_NAME ?? 'codeguardian';
export const REDACTED = '[REDACTED]';

/** Keys whose string values are always secret, wherever they appear in a log item. */
const SECRET_KEY = /pass(word|wd|phrase)?$|secret|token|authorization|cookie|api[-_]?key|private[-_]?key|credential|signature/i;

/** Secret-looking substrings of any logged string: bearer tokens, JWTs, GitHub tokens, PEM keys, key=value pairs. */
const SECRET_VALUE_PATTERNS: ReadonlyArray<[RegExp, string]> = [
  [/-----BEGIN [A-Z ]*PRIVATE KEY-----[\s\S]*?(-----END [A-Z ]*PRIVATE KEY-----|$)/g, REDACTED],
  [/\b(Bearer|Basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  [/\beyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*/g, REDACTED],
  [/\b(gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})\b/g, REDACTED],
  [/\b((?:password|passwd|secret|token|api[-_]?key)["']?\s*[:=]\s*["']?)[^\s"'&,;]+/gi, `$1${REDACTED}`],
];

/** Masks secrets in free text (messages, error messages, stack traces), provider credentials included. */
export function redactText(text: string): string {
  let out = text;
  for (const [pattern, replacement] of SECRET_VALUE_PATTERNS) out = out.replace(pattern, replacement);
  return redactSecrets(out);
}

/**
 * JSON replacer handed to the Powertools Logger (its own extension point for serialisation): every key of every
 * log item, nested attributes and formatted errors included, passes through it before it is written.
 */
export function redactingReplacer(key: string, value: unknown): unknown {
  if (typeof value !== 'string') return value;
  if (key !== '' && SECRET_KEY.test(key)) return REDACTED;
  return redactText(value);
}

export const logger = new Logger({ serviceName: SERVICE, jsonReplacerFn: redactingReplacer });
export const metrics = new Metrics({ serviceName: SERVICE, namespace: process.env.POWERTOOLS_METRICS_NAMESPACE ?? 'CodeGuardian' });

/**
 * Whether this process is traced, by the rule the Powertools Tracer applies itself: inside Lambda's runtime
 * (`AWS_EXECUTION_ENV`), not under SAM local, and `POWERTOOLS_TRACE_ENABLED` not `false`.
 */
export function tracingActive(env: NodeJS.ProcessEnv = process.env): boolean {
  const execution = env.AWS_EXECUTION_ENV ?? '';
  if (execution === '' || execution === 'AWS_Lambda_amplify-mock' || (env.AWS_SAM_LOCAL ?? '') !== '') return false;
  return env.POWERTOOLS_TRACE_ENABLED?.trim().toLowerCase() !== 'false';
}

/**
 * The Powertools Tracer, loaded only where it traces: its X-Ray SDK hooks every promise of the process
 * (cls-hooked), about a fifth of an API request's CPU, which an untraced process would pay for nothing.
 */
export const tracer: Tracer | undefined = tracingActive()
  ? new (await import('@aws-lambda-powertools/tracer')).Tracer({ serviceName: SERVICE })
  : undefined;

/** Middy middleware tracing the handler where tracing is active; none elsewhere. */
export function traceHandler<E, R>(): MiddlewareObj<E, R>[] {
  return tracer ? [captureLambdaHandler(tracer, { captureResponse: false }) as MiddlewareObj<E, R>] : [];
}
