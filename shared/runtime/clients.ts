import { ApiGatewayManagementApiClient } from '@aws-sdk/client-apigatewaymanagementapi';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { S3Client } from '@aws-sdk/client-s3';
import { SFNClient } from '@aws-sdk/client-sfn';
import { SQSClient } from '@aws-sdk/client-sqs';
import { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import { ENV } from '../platform/declarations.ts';
import { requireEnv } from './env.ts';
import { withoutSdkLogger } from './sdk-logger.ts';

// Built once per cold start and reused by every invocation; endpoints come from the SDK's own
// AWS_ENDPOINT_URL_<SERVICE> variables, which is how the local stack points them at its emulators.

export const dynamoClient = withoutSdkLogger(new DynamoDBClient({}));

export const documentClient = DynamoDBDocumentClient.from(dynamoClient, {
  marshallOptions: { removeUndefinedValues: true, convertClassInstanceToMap: false },
});

export const s3 = withoutSdkLogger(new S3Client({
  // Emulated S3 stores aws-chunked uploads verbatim unless checksums are only sent when an operation needs them.
  requestChecksumCalculation: 'WHEN_REQUIRED',
  responseChecksumValidation: 'WHEN_REQUIRED',
  forcePathStyle: Boolean(process.env.AWS_ENDPOINT_URL_S3),
}));

export const sqs = withoutSdkLogger(new SQSClient({}));

export const sfn = withoutSdkLogger(new SFNClient({}));

let management: { endpoint: string; client: ApiGatewayManagementApiClient } | undefined;

/** The WebSocket management client for WEBSOCKET_ENDPOINT, built on first use (only publishers need it). */
export function websocketManagement(): ApiGatewayManagementApiClient {
  const endpoint = requireEnv(ENV.websocketEndpoint);
  if (management?.endpoint !== endpoint) {
    management?.client.destroy();
    management = { endpoint, client: withoutSdkLogger(new ApiGatewayManagementApiClient({ endpoint })) };
  }
  return management.client;
}
