import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import * as v from 'valibot';
import { BedrockConverseProvider, backoffDelay, bedrockClient, DEFAULT_RETRY } from '../../../shared/llm/bedrock.ts';
import { ModelError, structured, toolInputSchema } from '../../../shared/llm/provider.ts';
import { startConverseServer, textReply, throttled, toolReply, type ConverseServer } from '../../support/converse-server.ts';

const MODEL = 'anthropic.claude-3-5-haiku-20241022-v1:0';
let server: ConverseServer;
const fastRetry = { baseDelayMs: 1, maxDelayMs: 5 };

beforeAll(async () => {
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  server = await startConverseServer();
  process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = server.endpoint;
});
afterAll(async () => {
  await server.close();
  delete process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME;
});
beforeEach(() => server.reset());

const Verdict = v.object({
  verdict: v.picklist(['true_positive', 'false_positive', 'uncertain']),
  confidence: v.pipe(v.number(), v.minValue(0), v.maxValue(1)),
  reasoning: v.pipe(v.string(), v.minLength(1)),
});

describe('Bedrock Converse adapter', () => {
  it('sends the Converse wire shape: model in the path, system, messages, inference settings', async () => {
    server.script(textReply('hello', 'end_turn', { inputTokens: 12, outputTokens: 3 }));
    const provider = new BedrockConverseProvider();
    const result = await provider.converse({
      modelId: MODEL,
      system: 'You are terse.',
      messages: [{ role: 'user', content: [{ text: 'Say hello' }] }],
      maxTokens: 50,
      temperature: 0.2,
    });
    expect(result).toEqual({ modelId: MODEL, content: 'hello', stopReason: 'end_turn', rawStopReason: 'end_turn', usage: { inputTokens: 12, outputTokens: 3 } });
    const [request] = server.requests;
    expect(request?.method).toBe('POST');
    expect(request?.modelId).toBe(MODEL);
    expect(request?.path).toBe(`/model/${encodeURIComponent(MODEL)}/converse`);
    expect(request?.body).toEqual({
      messages: [{ role: 'user', content: [{ text: 'Say hello' }] }],
      system: [{ text: 'You are terse.' }],
      inferenceConfig: { maxTokens: 50, temperature: 0.2 },
    });
    expect(request?.headers.authorization).toMatch(/^AWS4-HMAC-SHA256 Credential=local\/\d{8}\/us-east-1\/bedrock\/aws4_request/);
  });

  it('builds the client once and reuses it', () => {
    expect(bedrockClient()).toBe(bedrockClient());
  });

  it('sends a tool generated from the valibot schema, forces it, and validates the reply', async () => {
    server.script(toolReply('report_verdict', { verdict: 'false_positive', confidence: 0.8, reasoning: 'constant input' }, { inputTokens: 200, outputTokens: 40 }));
    const answer = await structured(new BedrockConverseProvider(), {
      modelId: MODEL,
      system: 'sys',
      messages: [{ role: 'user', content: [{ text: 'triage this' }] }],
      maxTokens: 300,
      temperature: 0,
      schema: Verdict,
      toolName: 'report_verdict',
      toolDescription: 'Report the verdict',
    });
    expect(answer).toEqual({ value: { verdict: 'false_positive', confidence: 0.8, reasoning: 'constant input' }, modelId: MODEL, usage: { inputTokens: 200, outputTokens: 40 } });
    const config = server.requests[0]?.body.toolConfig;
    expect(config?.toolChoice).toEqual({ tool: { name: 'report_verdict' } });
    expect(config?.tools).toEqual([{ toolSpec: { name: 'report_verdict', description: 'Report the verdict', inputSchema: { json: toolInputSchema(Verdict) } } }]);
    expect(toolInputSchema(Verdict)).toMatchObject({
      type: 'object',
      required: ['verdict', 'confidence', 'reasoning'],
      properties: { verdict: { enum: ['true_positive', 'false_positive', 'uncertain'] }, confidence: { type: 'number', minimum: 0, maximum: 1 } },
    });
    expect(toolInputSchema(Verdict)).not.toHaveProperty('$schema');
  });

  const ask = () =>
    structured(new BedrockConverseProvider({ retry: fastRetry }), {
      modelId: MODEL,
      messages: [{ role: 'user', content: [{ text: 'triage' }] }],
      maxTokens: 100,
      schema: Verdict,
      toolName: 'report_verdict',
      toolDescription: 'Report the verdict',
    });

  it('rejects a tool input that does not match the schema, keeping the spent usage', async () => {
    server.script(toolReply('report_verdict', { verdict: 'definitely', confidence: 7 }, { inputTokens: 50, outputTokens: 9 }));
    const error = await ask().catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ModelError);
    expect(error).toMatchObject({ code: 'MODEL_OUTPUT_INVALID', status: 503, usage: { inputTokens: 50, outputTokens: 9 } });
    expect((error as ModelError).details.issues).toEqual(expect.arrayContaining([expect.stringMatching(/^verdict:/), expect.stringMatching(/^confidence:/), expect.stringMatching(/reasoning/)]));
  });

  it('rejects plain text instead of the tool call, and a call of another tool', async () => {
    server.script(textReply('{"verdict":"false_positive"}'), toolReply('other_tool', {}));
    await expect(ask()).rejects.toMatchObject({ code: 'MODEL_OUTPUT_INVALID', message: expect.stringContaining('without calling report_verdict') });
    await expect(ask()).rejects.toMatchObject({ code: 'MODEL_OUTPUT_INVALID' });
  });

  it('reports a truncated answer as unusable', async () => {
    server.script({ kind: 'message', content: [{ text: 'I think' }], stopReason: 'max_tokens' });
    await expect(ask()).rejects.toMatchObject({ code: 'MODEL_OUTPUT_INVALID', message: expect.stringContaining('token limit') });
  });

  it.each(['content_filtered', 'guardrail_intervened'])('treats stopReason %s as a refusal', async (stop) => {
    server.script({ kind: 'message', content: [{ text: 'Sorry.' }], stopReason: stop, inputTokens: 30, outputTokens: 2 });
    await expect(ask()).rejects.toMatchObject({ code: 'MODEL_REFUSED', usage: { inputTokens: 30, outputTokens: 2 } });
    server.script({ kind: 'message', content: [{ text: 'Sorry.' }], stopReason: stop });
    const plain = await new BedrockConverseProvider().converse({ modelId: MODEL, messages: [{ role: 'user', content: [{ text: 'x' }] }], maxTokens: 10 });
    expect(plain.stopReason).toBe('refused');
    expect(plain.rawStopReason).toBe(stop);
  });

  it('retries 429 ThrottlingException and succeeds', async () => {
    server.script(throttled(), throttled(), toolReply('report_verdict', { verdict: 'uncertain', confidence: 0.5, reasoning: 'r' }));
    await expect(ask()).resolves.toMatchObject({ value: { verdict: 'uncertain' } });
    expect(server.requests).toHaveLength(3);
  });

  it('gives up after the bounded attempts with MODEL_THROTTLED', async () => {
    server.setFallback(throttled('Rate exceeded'));
    const error = await ask().catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'MODEL_THROTTLED', status: 503, retryable: true });
    expect((error as Error).message).toContain('Rate exceeded');
    expect(server.requests).toHaveLength(DEFAULT_RETRY.maxAttempts);
  });

  it('retries 5xx service errors, but not a validation error', async () => {
    server.script({ kind: 'error', status: 503, errorType: 'ServiceUnavailableException', message: 'busy' }, { kind: 'error', status: 408, errorType: 'ModelTimeoutException', message: 'Model has timed out' }, toolReply('report_verdict', { verdict: 'true_positive', confidence: 1, reasoning: 'r' }));
    await expect(ask()).resolves.toMatchObject({ value: { verdict: 'true_positive' } });
    server.reset();
    server.script({ kind: 'error', status: 400, errorType: 'ValidationException', message: 'The provided model identifier is invalid.' });
    await expect(ask()).rejects.toMatchObject({ code: 'MODEL_REQUEST_INVALID', retryable: false });
    expect(server.requests).toHaveLength(1);
  });

  it('maps access denied and unparseable bodies to typed errors without crashing', async () => {
    server.script({ kind: 'error', status: 403, errorType: 'AccessDeniedException', message: "You don't have access to the model" });
    await expect(ask()).rejects.toMatchObject({ code: 'MODEL_ACCESS_DENIED' });
    server.script({ kind: 'raw', status: 200, body: '<html>proxy error</html>', contentType: 'text/html' });
    await expect(ask()).rejects.toBeInstanceOf(ModelError);
  });

  it('times out a slow answer with MODEL_TIMEOUT', async () => {
    server.script({ ...toolReply('report_verdict', { verdict: 'uncertain', confidence: 0.5, reasoning: 'r' }), delayMs: 2_000 } as never);
    const started = Date.now();
    const provider = new BedrockConverseProvider();
    await expect(provider.converse({ modelId: MODEL, messages: [{ role: 'user', content: [{ text: 'x' }] }], maxTokens: 10, timeoutMs: 150 })).rejects.toMatchObject({ code: 'MODEL_TIMEOUT' });
    expect(Date.now() - started).toBeLessThan(1_500);
  });

  it('sends tool results back in a conversation', async () => {
    server.script(textReply('done'));
    await new BedrockConverseProvider().converse({
      modelId: MODEL,
      messages: [
        { role: 'user', content: [{ text: 'find' }] },
        { role: 'assistant', content: [{ toolUse: { id: 't1', name: 'search', input: { q: 'sql' } } }] },
        { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: { hits: 2 } } }] },
      ],
      tools: [{ name: 'search', description: 'search findings', inputSchema: { type: 'object', properties: { q: { type: 'string' } } } }],
      toolChoice: { type: 'auto' },
      maxTokens: 10,
    });
    expect(server.requests[0]?.body.messages?.[2]).toEqual({ role: 'user', content: [{ toolResult: { toolUseId: 't1', content: [{ json: { hits: 2 } }] } }] });
    expect(server.requests[0]?.body.toolConfig?.toolChoice).toEqual({ auto: {} });
  });

  it('is refused like the service refuses a conversation that does not start with the user', async () => {
    const provider = new BedrockConverseProvider();
    const error = await provider
      .converse({ modelId: MODEL, messages: [{ role: 'assistant', content: [{ text: 'hi' }] }], maxTokens: 10 })
      .catch((e: unknown) => e);
    expect(error).toMatchObject({ code: 'MODEL_REQUEST_INVALID', message: expect.stringContaining('must start with a user message') });
    expect(server.requests).toHaveLength(1);
  });

  it('backs off with full jitter, capped', () => {
    expect(backoffDelay(0, DEFAULT_RETRY, () => 0.999)).toBe(499);
    expect(backoffDelay(10, DEFAULT_RETRY, () => 0.999)).toBe(7_992);
    expect(backoffDelay(3, DEFAULT_RETRY, () => 0)).toBe(0);
  });
});
