import { startStubServer, type StubServer } from '../../runtime/support/aws-local.ts';

export interface ConnectionsEndpoint extends StubServer {
  /** Connection ids that answer 410 Gone. */
  readonly gone: Set<string>;
  /** Connection ids that answer 403 Forbidden. */
  readonly forbidden: Set<string>;
  /** Payloads received per connection id. */
  readonly received: Map<string, string[]>;
  /** Highest number of posts in flight at once. */
  maxInFlight(): number;
}

/** The API Gateway `@connections` management API the SDK's ApiGatewayManagementApiClient calls. */
export async function startConnectionsEndpoint(delayMs = 0): Promise<ConnectionsEndpoint> {
  const gone = new Set<string>();
  const forbidden = new Set<string>();
  const received = new Map<string, string[]>();
  let inFlight = 0;
  let max = 0;
  const server = await startStubServer((request, res) => {
    const match = /\/@connections\/([^/?]+)$/.exec(request.url);
    const id = decodeURIComponent(match?.[1] ?? '');
    inFlight++;
    max = Math.max(max, inFlight);
    setTimeout(() => {
      inFlight--;
      if (!match || request.method !== 'POST') {
        res.writeHead(404).end();
      } else if (gone.has(id)) {
        res.writeHead(410, { 'content-type': 'application/json', 'x-amzn-errortype': 'GoneException' }).end('{"message":"Gone"}');
      } else if (forbidden.has(id)) {
        res.writeHead(403, { 'content-type': 'application/json', 'x-amzn-errortype': 'ForbiddenException' }).end('{"message":"Forbidden"}');
      } else {
        received.set(id, [...(received.get(id) ?? []), request.body]);
        res.writeHead(200).end();
      }
    }, delayMs);
  });
  return { ...server, gone, forbidden, received, maxInFlight: () => max };
}
