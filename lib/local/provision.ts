import {
  CreateTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
  ResourceInUseException,
  UpdateTimeToLiveCommand,
  type AttributeDefinition,
} from '@aws-sdk/client-dynamodb';
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { CreateQueueCommand, GetQueueAttributesCommand, SQSClient } from '@aws-sdk/client-sqs';
import { GLOBAL_INDEXES, TABLE_KEYS, TTL_ATTRIBUTE } from '../../shared/db/table-definition.ts';
import { queues, type QueueDecl } from '../../shared/platform/declarations.ts';
import type { Endpoints } from './emulators.ts';

/** s3rver accepts only this key pair; DynamoDB Local (-sharedDb) and local SQS accept any. */
export const LOCAL_CREDENTIALS = { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' };

export interface LocalQueue {
  readonly key: string;
  readonly decl: QueueDecl;
  readonly url: string;
  readonly arn: string;
  readonly dlqUrl: string;
  readonly dlqArn: string;
}

export interface Provisioned {
  readonly tableName: string;
  readonly bucketName: string;
  readonly queues: readonly LocalQueue[];
}

/** SDK clients aimed at the emulators, configured the way handlers' clients are through env. */
export function localClients(endpoints: Endpoints, region: string) {
  const base = { region, credentials: LOCAL_CREDENTIALS };
  return {
    dynamodb: new DynamoDBClient({ ...base, endpoint: endpoints.dynamodb }),
    // Without WHEN_REQUIRED the SDK sends aws-chunked uploads that s3rver stores with the chunk framing.
    s3: new S3Client({
      ...base,
      endpoint: endpoints.s3,
      forcePathStyle: true,
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
    }),
    sqs: new SQSClient({ ...base, endpoint: endpoints.sqs }),
  };
}

export function queueName(decl: QueueDecl): string {
  return `codeguardian-${decl.name}`;
}

/** Creates the single table (keys and indexes from table-definition.ts, TTL on) unless it exists. */
export async function ensureTable(client: DynamoDBClient, tableName: string): Promise<void> {
  const keyNames = [TABLE_KEYS.partitionKey, TABLE_KEYS.sortKey, ...GLOBAL_INDEXES.flatMap((i) => [i.partitionKey, i.sortKey])];
  const attributes: AttributeDefinition[] = [...new Set(keyNames)].map((name) => ({ AttributeName: name, AttributeType: 'S' }));
  try {
    await client.send(
      new CreateTableCommand({
        TableName: tableName,
        BillingMode: 'PAY_PER_REQUEST',
        AttributeDefinitions: attributes,
        KeySchema: [
          { AttributeName: TABLE_KEYS.partitionKey, KeyType: 'HASH' },
          { AttributeName: TABLE_KEYS.sortKey, KeyType: 'RANGE' },
        ],
        GlobalSecondaryIndexes: GLOBAL_INDEXES.map((index) => ({
          IndexName: index.name,
          KeySchema: [
            { AttributeName: index.partitionKey, KeyType: 'HASH' },
            { AttributeName: index.sortKey, KeyType: 'RANGE' },
          ],
          Projection: { ProjectionType: 'ALL' },
        })),
      }),
    );
  } catch (error) {
    if (!(error instanceof ResourceInUseException)) throw error;
  }
  const ttl = await client.send(new DescribeTimeToLiveCommand({ TableName: tableName }));
  if (ttl.TimeToLiveDescription?.TimeToLiveStatus !== 'ENABLED') {
    await client.send(
      new UpdateTimeToLiveCommand({
        TableName: tableName,
        TimeToLiveSpecification: { AttributeName: TTL_ATTRIBUTE, Enabled: true },
      }),
    );
  }
}

async function ensureBucket(client: S3Client, bucketName: string): Promise<void> {
  try {
    await client.send(new HeadBucketCommand({ Bucket: bucketName }));
  } catch {
    await client.send(new CreateBucketCommand({ Bucket: bucketName }));
  }
}

async function ensureQueue(client: SQSClient, name: string): Promise<{ url: string; arn: string }> {
  // CreateQueue with the same attributes is idempotent. Dead-lettering is done by the poller: the
  // emulator's redrive counts ChangeMessageVisibility as a receive.
  const created = await client.send(new CreateQueueCommand({ QueueName: name }));
  const url = created.QueueUrl;
  if (!url) throw new Error(`CreateQueue ${name} returned no URL`);
  const attrs = await client.send(new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ['QueueArn'] }));
  const arn = attrs.Attributes?.QueueArn;
  if (!arn) throw new Error(`Queue ${name} has no ARN`);
  return { url, arn };
}

/** Creates the table (TTL on), the bucket and every declared queue with its dead-letter queue, if missing. */
export async function provision(
  endpoints: Endpoints,
  options: { region: string; tableName: string; bucketName: string },
): Promise<Provisioned> {
  const clients = localClients(endpoints, options.region);
  try {
    await ensureTable(clients.dynamodb, options.tableName);
    await ensureBucket(clients.s3, options.bucketName);
    const local: LocalQueue[] = [];
    for (const [key, decl] of Object.entries(queues) as [string, QueueDecl][]) {
      const dlq = await ensureQueue(clients.sqs, `${queueName(decl)}-dlq`);
      const main = await ensureQueue(clients.sqs, queueName(decl));
      local.push({ key, decl, url: main.url, arn: main.arn, dlqUrl: dlq.url, dlqArn: dlq.arn });
    }
    return { tableName: options.tableName, bucketName: options.bucketName, queues: local };
  } finally {
    clients.dynamodb.destroy();
    clients.s3.destroy();
    clients.sqs.destroy();
  }
}
