import type { APIGatewayProxyEventV2, Context, SQSEvent, SQSRecord } from 'aws-lambda';

// Event shapes as API Gateway, SQS and EventBridge deliver them (AWS documentation samples), built per test.

export function lambdaContext(name = 'unit-function'): Context {
  return {
    callbackWaitsForEmptyEventLoop: false,
    functionName: name,
    functionVersion: '$LATEST',
    invokedFunctionArn: `arn:aws:lambda:us-east-1:123456789012:function:${name}`,
    memoryLimitInMB: '512',
    awsRequestId: 'c6af9ac6-7b61-11e6-9a41-93e812345678',
    logGroupName: `/aws/lambda/${name}`,
    logStreamName: '2026/11/23/[$LATEST]abcdef',
    getRemainingTimeInMillis: () => 29_000,
    done: () => undefined,
    fail: () => undefined,
    succeed: () => undefined,
  };
}

export interface HttpEventInit {
  readonly method?: string;
  readonly path?: string;
  readonly headers?: Record<string, string>;
  readonly query?: Record<string, string>;
  readonly pathParameters?: Record<string, string>;
  readonly body?: string;
  readonly isBase64Encoded?: boolean;
}

/** An HTTP API payload-format-2.0 event. */
export function httpEvent(init: HttpEventInit = {}): APIGatewayProxyEventV2 {
  const method = init.method ?? 'GET';
  const path = init.path ?? '/api/things';
  const rawQueryString = new URLSearchParams(init.query ?? {}).toString();
  return {
    version: '2.0',
    routeKey: `${method} ${path}`,
    rawPath: path,
    rawQueryString,
    headers: { accept: '*/*', host: 'abc123.execute-api.us-east-1.amazonaws.com', 'user-agent': 'curl/8.5.0', ...init.headers },
    queryStringParameters: init.query,
    pathParameters: init.pathParameters,
    requestContext: {
      accountId: '123456789012',
      apiId: 'abc123',
      domainName: 'abc123.execute-api.us-east-1.amazonaws.com',
      domainPrefix: 'abc123',
      http: { method, path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.7', userAgent: 'curl/8.5.0' },
      requestId: 'JKJaXmPLvHcESHA=',
      routeKey: `${method} ${path}`,
      stage: '$default',
      time: '23/Nov/2026:15:00:00 +0000',
      timeEpoch: 1_795_446_000_000,
    },
    body: init.body,
    isBase64Encoded: init.isBase64Encoded ?? false,
  };
}

export function sqsRecord(body: string, messageId: string): SQSRecord {
  return {
    messageId,
    receiptHandle: `AQEB${messageId}`,
    body,
    attributes: {
      ApproximateReceiveCount: '1',
      SentTimestamp: '1795446000000',
      SenderId: 'AIDAIENQZJOLO23YVJ4VO',
      ApproximateFirstReceiveTimestamp: '1795446000001',
    },
    messageAttributes: {},
    md5OfBody: 'e4e68fb7bd0e697a0ae8f1bb342846b3',
    eventSource: 'aws:sqs',
    eventSourceARN: 'arn:aws:sqs:us-east-1:123456789012:ScanJobs',
    awsRegion: 'us-east-1',
  };
}

export function sqsEvent(bodies: readonly string[]): SQSEvent {
  return { Records: bodies.map((body, i) => sqsRecord(body, `059f36b4-87a3-44ab-83d2-66197190000${i}`)) };
}

export function wsEvent(
  routeKey: '$connect' | '$disconnect' | '$default',
  init: { connectionId?: string; query?: Record<string, string>; body?: string } = {},
): Record<string, unknown> {
  const eventType = routeKey === '$connect' ? 'CONNECT' : routeKey === '$disconnect' ? 'DISCONNECT' : 'MESSAGE';
  return {
    ...(routeKey === '$connect' ? { headers: { Host: 'ws.example.com', 'Sec-WebSocket-Version': '13' } } : {}),
    ...(init.query ? { queryStringParameters: init.query } : {}),
    requestContext: {
      routeKey,
      eventType,
      extendedRequestId: 'L1tHqEXAMPLE=',
      requestTime: '23/Nov/2026:15:00:00 +0000',
      messageDirection: 'IN',
      stage: 'ws',
      connectedAt: 1_795_446_000_000,
      requestTimeEpoch: 1_795_446_000_100,
      identity: { sourceIp: '203.0.113.7' },
      requestId: 'L1tHqFXAMPLE=',
      domainName: 'ws.example.com',
      connectionId: init.connectionId ?? 'L0SM9cOFvHcCIhw=',
      apiId: 'def456',
    },
    ...(init.body !== undefined ? { body: init.body } : {}),
    isBase64Encoded: false,
  };
}

export function scheduledEvent(): Record<string, unknown> {
  return {
    version: '0',
    id: '89d1a02d-5ec7-412e-82f5-13505f849b41',
    'detail-type': 'Scheduled Event',
    source: 'aws.events',
    account: '123456789012',
    time: '2026-11-23T02:00:00Z',
    region: 'us-east-1',
    resources: ['arn:aws:events:us-east-1:123456789012:rule/NightlyScans'],
    detail: {},
  };
}
