import { DescribeTableCommand } from '@aws-sdk/client-dynamodb';
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { GetQueueAttributesCommand } from '@aws-sdk/client-sqs';
import { ENV, queues } from '../platform/declarations.ts';
import { dynamoClient, s3, sqs } from './clients.ts';
import { config, loadSecrets, requireEnv } from './env.ts';
import { logger } from './powertools.ts';

export type ServiceStatus = 'up' | 'down' | 'not_configured';

export interface HealthReport {
  readonly status: 'healthy' | 'unhealthy';
  readonly version: string;
  readonly services: Readonly<Record<string, ServiceStatus>>;
  /** Services that are down, or not configured where they are required. */
  readonly failing: readonly string[];
}

/** Each dependency gets this long before it counts as down. */
export const CHECK_TIMEOUT_MS = 2000;

class NotConfigured extends Error {}

interface Check {
  readonly name: string;
  /** A required service fails health when down; GitHub and the model may be unconfigured on the local stack. */
  readonly required: (status: ServiceStatus) => boolean;
  readonly run: (signal: AbortSignal) => Promise<void>;
}

const always = () => true;

function checks(): Check[] {
  const { isLocal, bedrockModelId, githubAppId, githubApiUrl } = config();
  const optionalLocally = (status: ServiceStatus) => status === 'down' || !isLocal;
  const list: Check[] = [
    {
      name: 'table',
      required: always,
      run: async (abortSignal) => {
        await dynamoClient.send(new DescribeTableCommand({ TableName: requireEnv(ENV.tableName) }), { abortSignal });
      },
    },
    {
      name: 'bucket',
      required: always,
      run: async (abortSignal) => {
        await s3.send(new HeadBucketCommand({ Bucket: requireEnv(ENV.bucketName) }), { abortSignal });
      },
    },
  ];
  for (const [key, queue] of Object.entries(queues)) {
    list.push({
      name: `queue:${key}`,
      required: always,
      run: async (abortSignal) => {
        const QueueUrl = requireEnv(queue.envVar);
        await sqs.send(new GetQueueAttributesCommand({ QueueUrl, AttributeNames: ['QueueArn'] }), { abortSignal });
      },
    });
  }
  list.push(
    {
      name: 'github',
      required: optionalLocally,
      run: async (signal) => {
        const secrets = await loadSecrets();
        if (!githubAppId || !secrets.GITHUB_APP_PRIVATE_KEY || !secrets.GITHUB_WEBHOOK_SECRET) throw new NotConfigured();
        const answer = await fetch(`${githubApiUrl}/meta`, { signal, headers: { accept: 'application/vnd.github+json' } });
        await answer.body?.cancel();
        if (answer.status >= 500) throw new Error(`GitHub answered ${answer.status}`);
      },
    },
    {
      name: 'model',
      required: optionalLocally,
      run: async () => {
        if (!bedrockModelId) throw new NotConfigured();
      },
    },
  );
  return list;
}

async function runCheck(check: Check): Promise<ServiceStatus> {
  const controller = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      controller.abort();
      reject(new Error(`no answer within ${CHECK_TIMEOUT_MS} ms`));
    }, CHECK_TIMEOUT_MS);
  });
  try {
    await Promise.race([check.run(controller.signal), timeout]);
    return 'up';
  } catch (error) {
    if (error instanceof NotConfigured) return 'not_configured';
    logger.warn('Health check failed', { service: check.name, reason: (error as Error).name, message: (error as Error).message });
    return 'down';
  } finally {
    clearTimeout(timer);
  }
}

/** Checks every dependency in parallel, each with its own timeout. */
export async function checkHealth(version = process.env.APP_VERSION ?? process.env.npm_package_version ?? '0.0.0'): Promise<HealthReport> {
  const list = checks();
  const results = await Promise.all(list.map(runCheck));
  const services: Record<string, ServiceStatus> = {};
  const failing: string[] = [];
  list.forEach((check, i) => {
    const status = results[i] as ServiceStatus;
    services[check.name] = status;
    if (status !== 'up' && check.required(status)) failing.push(check.name);
  });
  return { status: failing.length === 0 ? 'healthy' : 'unhealthy', version, services, failing };
}
