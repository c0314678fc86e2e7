import { describe, expect, it } from '@jest/globals';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { withoutSdkLogger } from '../../../shared/runtime/sdk-logger.ts';

const names = (client: DynamoDBClient) => client.middlewareStack.identify().map((entry) => entry.split(' ')[0]);

describe('withoutSdkLogger', () => {
  it("removes only the SDK's logger middleware from a client's stack", () => {
    const plain = new DynamoDBClient({ region: 'us-east-1' });
    const client = withoutSdkLogger(new DynamoDBClient({ region: 'us-east-1' }));
    expect(names(plain)).toContain('loggerMiddleware');
    expect(names(client)).not.toContain('loggerMiddleware');
    expect(names(client)).toEqual(names(plain).filter((name) => name !== 'loggerMiddleware'));
  });

  it('leaves the shared clients without it', async () => {
    const clients = await import('../../../shared/runtime/clients.ts');
    for (const client of [clients.dynamoClient, clients.s3, clients.sqs, clients.sfn]) {
      expect(client.middlewareStack.identify().some((entry) => entry.startsWith('loggerMiddleware'))).toBe(false);
    }
  });
});
