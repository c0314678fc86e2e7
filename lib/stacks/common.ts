import type { Duration } from 'aws-cdk-lib';
import type * as dynamodb from 'aws-cdk-lib/aws-dynamodb';
import type * as s3 from 'aws-cdk-lib/aws-s3';
import type * as secretsmanager from 'aws-cdk-lib/aws-secretsmanager';
import type { Construct } from 'constructs';
import { ENV, type HandlerDecl } from '../../shared/platform/declarations.ts';
import { AppFunction } from '../constructs/app-function.ts';
import { configEnvironment, type StageConfig } from './stage-config.ts';
import type * as kms from 'aws-cdk-lib/aws-kms';

/** What the data stack shares with the others. */
export interface DataResources {
  readonly table: dynamodb.ITable;
  readonly bucket: s3.IBucket;
  readonly secret: secretsmanager.ISecret;
  /** Envelope-encrypts stored GitHub user tokens. */
  readonly tokenKey: kms.IKey;
}

/** The WebSocket stage handlers post events to. */
export interface WebSocketTarget {
  readonly apiId: string;
  readonly stageName: string;
  readonly callbackUrl: string;
}

/** `lambdas/http/get-health.ts` → `HttpGetHealth`: a stable construct id per handler entry. */
export function constructIdFor(entry: string): string {
  return entry
    .replace(/^lambdas\//, '')
    .replace(/\.[cm]?[jt]s$/, '')
    .split(/[/_-]+/)
    .filter(Boolean)
    .map((part) => part[0]?.toUpperCase() + part.slice(1))
    .join('');
}

/** An AppFunction for a declared handler with the stage and SPEC §3 settings in its environment. */
export function platformFunction(
  scope: Construct,
  config: StageConfig,
  handler: HandlerDecl,
  options: { readonly defaultTimeout?: Duration; readonly reservedConcurrency?: number } = {},
): AppFunction {
  return new AppFunction(scope, constructIdFor(handler.entry), {
    handler,
    defaultTimeout: options.defaultTimeout,
    reservedConcurrency: options.reservedConcurrency,
    environment: { [ENV.stage]: config.stage, ...configEnvironment(config) },
  });
}
