import { injectLambdaContext } from '@aws-lambda-powertools/logger/middleware';
import middy from '@middy/core';
import type { APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2 } from 'aws-lambda';
import { toErrorResponse } from '../http/errors.ts';
import { logger, traceHandler } from '../runtime/powertools.ts';
import type { WebhookAnswer, WebhookRequest } from './receive.ts';

const JSON_HEADERS = { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' };

/**
 * A route with access `github`: no token, no JSON body parser (the signature covers the exact bytes GitHub sent),
 * no per-IP rate limit (GitHub sends from a few addresses); errors answer `{ error, code }` like every route.
 */
export function githubWebhookRoute(fn: (request: WebhookRequest) => Promise<WebhookAnswer>) {
  const handle = async (event: APIGatewayProxyEventV2): Promise<APIGatewayProxyStructuredResultV2> => {
    const headers: Record<string, string | undefined> = {};
    for (const [name, value] of Object.entries(event.headers ?? {})) headers[name.toLowerCase()] = value;
    logger.setCorrelationId(headers['x-github-delivery'] ?? event.requestContext.requestId);
    try {
      const answer = await fn({ headers, body: event.body, isBase64Encoded: event.isBase64Encoded });
      return { statusCode: answer.status, headers: JSON_HEADERS, body: JSON.stringify(answer.body) };
    } catch (error) {
      const { status, headers: extra, body } = toErrorResponse(error);
      if (status >= 500) logger.error('Webhook failed', { error: error as Error });
      else logger.info('Webhook rejected', { status, code: body.code });
      return { statusCode: status, headers: { ...JSON_HEADERS, ...extra }, body: JSON.stringify(body) };
    }
  };
  return middy<APIGatewayProxyEventV2, APIGatewayProxyStructuredResultV2>()
    .use(injectLambdaContext(logger, { resetKeys: true }))
    .use(traceHandler())
    .handler(handle);
}
