/**
 * A local HTTP server speaking the Bedrock Runtime Converse wire format (restJson1, as the SDK's
 * AwsRestJsonProtocol serialises it): `POST /model/{modelId}/converse` with a JSON body of `messages`, `system`,
 * `toolConfig` and `inferenceConfig`. Cleartext HTTP/2, because the Bedrock Runtime client's default handler
 * speaks HTTP/2 only. Tests script the replies one by one and read back every request, so the
 * real SDK client (serialisation, error parsing, aborts) runs end to end.
 */
import { createServer, type Http2ServerResponse, type Http2Session, type IncomingHttpHeaders } from 'node:http2';
import type { AddressInfo } from 'node:net';

export interface ConverseRequestBody {
  readonly messages?: { role: string; content: Record<string, unknown>[] }[];
  readonly system?: { text?: string }[];
  readonly toolConfig?: {
    tools?: { toolSpec?: { name: string; description?: string; inputSchema?: { json?: Record<string, unknown> } } }[];
    toolChoice?: Record<string, unknown>;
  };
  readonly inferenceConfig?: { maxTokens?: number; temperature?: number; topP?: number; stopSequences?: string[] };
  readonly [other: string]: unknown;
}

export interface RecordedConverse {
  readonly method: string;
  readonly path: string;
  /** The model id from the path, URL-decoded. */
  readonly modelId: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: ConverseRequestBody;
}

export type ContentBlock = { text: string } | { toolUse: { toolUseId: string; name: string; input: unknown } };

/** One scripted answer. */
export type ScriptedReply =
  | {
      readonly kind: 'message';
      readonly content: readonly ContentBlock[];
      readonly stopReason?: string;
      readonly inputTokens?: number;
      readonly outputTokens?: number;
      readonly delayMs?: number;
    }
  | { readonly kind: 'error'; readonly status: number; readonly errorType: string; readonly message: string }
  /** A body that is not what the protocol promises (to test the client's resilience). */
  | { readonly kind: 'raw'; readonly status: number; readonly body: string; readonly contentType?: string };

/** A message whose single content block is a tool call with `input`. */
export function toolReply(name: string, input: unknown, usage: { inputTokens?: number; outputTokens?: number } = {}): ScriptedReply {
  return {
    kind: 'message',
    content: [{ toolUse: { toolUseId: `tooluse_${Math.random().toString(36).slice(2, 12)}`, name, input } }],
    stopReason: 'tool_use',
    ...usage,
  };
}

export function textReply(text: string, stopReason = 'end_turn', usage: { inputTokens?: number; outputTokens?: number } = {}): ScriptedReply {
  return { kind: 'message', content: [{ text }], stopReason, ...usage };
}

export function throttled(message = 'Too many requests, please wait before trying again.'): ScriptedReply {
  return { kind: 'error', status: 429, errorType: 'ThrottlingException', message };
}

export interface ConverseServer {
  /** Base URL for AWS_ENDPOINT_URL_BEDROCK_RUNTIME. */
  readonly endpoint: string;
  readonly requests: RecordedConverse[];
  /** Queue replies, answered in order; when the queue is empty, `fallback` answers (default: a 500). */
  script(...replies: ScriptedReply[]): void;
  /** Answer every request not covered by the script with this reply (or a function of the request). */
  setFallback(reply: ScriptedReply | ((request: RecordedConverse) => ScriptedReply) | undefined): void;
  /** Replies still queued. */
  pending(): number;
  reset(): void;
  /** Let the process exit while the server is still open (a server shared by a whole test file's fixtures). */
  unref(): void;
  close(): Promise<void>;
}

function send(res: Http2ServerResponse, reply: ScriptedReply): void {
  if (reply.kind === 'error') {
    res.writeHead(reply.status, { 'content-type': 'application/json', 'x-amzn-errortype': `${reply.errorType}:http://internal.amazon.com/coral/com.amazon.bedrock/` });
    res.end(JSON.stringify({ message: reply.message }));
    return;
  }
  if (reply.kind === 'raw') {
    res.writeHead(reply.status, { 'content-type': reply.contentType ?? 'application/json' });
    res.end(reply.body);
    return;
  }
  const inputTokens = reply.inputTokens ?? 100;
  const outputTokens = reply.outputTokens ?? 20;
  res.writeHead(200, { 'content-type': 'application/json', 'x-amzn-requestid': `req-${Date.now()}` });
  res.end(
    JSON.stringify({
      output: { message: { role: 'assistant', content: reply.content } },
      stopReason: reply.stopReason ?? 'end_turn',
      usage: { inputTokens, outputTokens, totalTokens: inputTokens + outputTokens },
      metrics: { latencyMs: reply.delayMs ?? 1 },
    }),
  );
}

/** The request rules the service enforces that a client can get wrong, with the service's wording. */
function validationProblem(body: ConverseRequestBody): string | undefined {
  const messages = body.messages;
  if (!Array.isArray(messages) || messages.length === 0) return 'A conversation must start with a user message. Try again with a conversation that starts with a user message.';
  if (messages[0]?.role !== 'user') return 'A conversation must start with a user message. Try again with a conversation that starts with a user message.';
  for (let i = 1; i < messages.length; i++) {
    if (messages[i]?.role === messages[i - 1]?.role) return 'A conversation must alternate between user and assistant roles. Make sure the conversation alternates between user and assistant roles and try again.';
  }
  const usesTools = messages.some((m) => m.content.some((block) => 'toolUse' in block || 'toolResult' in block));
  if (usesTools && !body.toolConfig) return 'The toolConfig field must be defined when using toolUse and toolResult content blocks.';
  if (body.toolConfig?.toolChoice && !body.toolConfig.tools?.length) return 'The toolConfig field must contain at least one tool.';
  const maxTokens = body.inferenceConfig?.maxTokens;
  if (maxTokens !== undefined && (!Number.isInteger(maxTokens) || maxTokens < 1)) return 'The maximum tokens you requested must be at least 1.';
  return undefined;
}

export async function startConverseServer(): Promise<ConverseServer> {
  const requests: RecordedConverse[] = [];
  let queue: ScriptedReply[] = [];
  let fallback: ScriptedReply | ((request: RecordedConverse) => ScriptedReply) | undefined;

  const sessions = new Set<Http2Session>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const path = (req.url ?? '').split('?')[0] ?? '';
      const match = /^\/model\/([^/]+)\/converse$/.exec(path);
      if (req.method !== 'POST' || !match?.[1]) {
        send(res, { kind: 'error', status: 404, errorType: 'UnknownOperationException', message: `No route for ${req.method} ${path}` });
        return;
      }
      let body: ConverseRequestBody;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as ConverseRequestBody;
      } catch {
        send(res, { kind: 'error', status: 400, errorType: 'ValidationException', message: 'Malformed JSON body' });
        return;
      }
      const request: RecordedConverse = { method: req.method, path, modelId: decodeURIComponent(match[1]), headers: req.headers, body };
      requests.push(request);
      const invalid = validationProblem(body);
      if (invalid) {
        send(res, { kind: 'error', status: 400, errorType: 'ValidationException', message: invalid });
        return;
      }
      const reply =
        queue.shift() ??
        (typeof fallback === 'function' ? fallback(request) : fallback) ?? {
          kind: 'error',
          status: 500,
          errorType: 'InternalServerException',
          message: 'No scripted reply left',
        };
      const delay = reply.kind === 'message' ? (reply.delayMs ?? 0) : 0;
      if (delay > 0) {
        const timer = setTimeout(() => send(res, reply), delay);
        res.once('close', () => clearTimeout(timer));
      } else {
        send(res, reply);
      }
    });
  });
  server.on('session', (session: Http2Session) => {
    sessions.add(session);
    session.once('close', () => sessions.delete(session));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    requests,
    script: (...replies) => {
      queue.push(...replies);
    },
    setFallback: (reply) => {
      fallback = reply;
    },
    pending: () => queue.length,
    reset: () => {
      queue = [];
      fallback = undefined;
      requests.length = 0;
    },
    unref: () => {
      server.unref();
      for (const session of sessions) session.unref();
      server.on('session', (session: Http2Session) => session.unref());
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const session of sessions) session.destroy();
        server.close(() => resolve());
      }),
  };
}
