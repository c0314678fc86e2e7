import { resolve } from 'node:path';

/** Where and how the local stack runs; everything has a default so `npm start` needs no configuration. */
export interface LocalConfig {
  readonly dataDir: string;
  readonly region: string;
  readonly accountId: string;
  readonly apiPort: number;
  readonly ports: { readonly dynamodb: number; readonly s3: number; readonly sqs: number; readonly sfn: number };
  /** Delay before a failed queue message is delivered again (AWS uses the queue's visibility timeout). */
  readonly retryDelaySeconds: number;
  /** Long-poll wait of the queue poller; short in tests so stopping is quick. */
  readonly pollWaitSeconds: number;
}

export const LOCAL_REGION = 'us-east-1';
export const LOCAL_ACCOUNT = '000000000000';
export const LOCAL_TABLE = 'codeguardian-local';
export const LOCAL_BUCKET = 'codeguardian-local';

export class ConfigError extends Error {
  readonly code = 'INVALID_CONFIG';
}

function port(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 1 || value > 65535) {
    throw new ConfigError(`${name} must be a port number between 1 and 65535, got "${raw}"`);
  }
  return value;
}

function seconds(env: NodeJS.ProcessEnv, name: string, fallback: number): number {
  const raw = env[name];
  if (raw === undefined || raw === '') return fallback;
  const value = Number(raw);
  if (!Number.isFinite(value) || value < 0 || value > 43200) {
    throw new ConfigError(`${name} must be a number of seconds between 0 and 43200, got "${raw}"`);
  }
  return value;
}

/** Reads the local stack's settings from the environment. */
export function loadLocalConfig(env: NodeJS.ProcessEnv = process.env): LocalConfig {
  const apiPort = port(env, 'API_PORT', 8000);
  return {
    dataDir: resolve(env.CODEGUARDIAN_DATA_DIR || '.codeguardian'),
    region: LOCAL_REGION,
    accountId: LOCAL_ACCOUNT,
    apiPort,
    ports: {
      dynamodb: port(env, 'CODEGUARDIAN_DYNAMODB_PORT', 8101),
      s3: port(env, 'CODEGUARDIAN_S3_PORT', 8102),
      sqs: port(env, 'CODEGUARDIAN_SQS_PORT', 8103),
      sfn: port(env, 'CODEGUARDIAN_SFN_PORT', 8104),
    },
    retryDelaySeconds: seconds(env, 'CODEGUARDIAN_RETRY_DELAY_SECONDS', 10),
    pollWaitSeconds: seconds(env, 'CODEGUARDIAN_POLL_WAIT_SECONDS', 5),
  };
}
