import { afterAll, afterEach, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import * as v from 'valibot';
import { OpenAiCompatibleProvider } from '../../../shared/llm/openai-compatible.ts';
import { structured } from '../../../shared/llm/provider.ts';
import { platformProvider } from '../../../shared/llm/run.ts';

/** A chat-completions server answering from a queue, recording bodies and headers. */
const queue: { status: number; body: unknown; delayMs?: number }[] = [];
const received: { body: Record<string, unknown>; authorization?: string }[] = [];
let server: Server;
let baseUrl: string;

const completion = (message: Record<string, unknown>, finish: string, usage = { prompt_tokens: 50, completion_tokens: 10 }) => ({
  status: 200,
  body: { id: 'c1', object: 'chat.completion', choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason: finish }], usage },
});
const call = (name: string, args: string) => completion({ content: null, tool_calls: [{ id: 'call_1', type: 'function', function: { name, arguments: args } }] }, 'tool_calls');

beforeAll(async () => {
  server = createServer((req, res) => {
    let data = '';
    req.on('data', (c: Buffer) => (data += c.toString()));
    req.on('end', () => {
      received.push({ body: JSON.parse(data) as Record<string, unknown>, authorization: req.headers.authorization });
      const next = queue.shift() ?? { status: 500, body: { error: { message: 'nothing scripted' } } };
      const send = () => {
        res.writeHead(next.status, { 'content-type': 'application/json' });
        res.end(typeof next.body === 'string' ? next.body : JSON.stringify(next.body));
      };
      if (next.delayMs) setTimeout(send, next.delayMs);
      else send();
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/v1`;
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});
afterEach(() => {
  queue.length = 0;
  received.length = 0;
});

const Schema = v.object({ verdict: v.picklist(['true_positive', 'false_positive', 'uncertain']), confidence: v.pipe(v.number(), v.minValue(0), v.maxValue(1)) });
const provider = () => new OpenAiCompatibleProvider({ baseUrl, apiKey: 'local-key', retry: { baseDelayMs: 1, maxDelayMs: 2 } });
const ask = () =>
  structured(provider(), {
    modelId: 'llama3.1',
    system: 'sys',
    messages: [{ role: 'user', content: [{ text: 'triage' }] }],
    maxTokens: 100,
    temperature: 0,
    schema: Schema,
    toolName: 'report_triage',
    toolDescription: 'Report it',
  });

describe('OpenAI-compatible provider', () => {
  it('sends tools as forced function calling and parses the call', async () => {
    queue.push(call('report_triage', '{"verdict":"uncertain","confidence":0.4}'));
    await expect(ask()).resolves.toEqual({ value: { verdict: 'uncertain', confidence: 0.4 }, modelId: 'llama3.1', usage: { inputTokens: 50, outputTokens: 10 } });
    const { body, authorization } = received[0] ?? { body: {} };
    expect(authorization).toBe('Bearer local-key');
    expect(body).toMatchObject({
      model: 'llama3.1',
      max_tokens: 100,
      temperature: 0,
      messages: [{ role: 'system', content: 'sys' }, { role: 'user', content: 'triage' }],
      tool_choice: { type: 'function', function: { name: 'report_triage' } },
      tools: [{ type: 'function', function: { name: 'report_triage', description: 'Report it', parameters: { type: 'object', required: ['verdict', 'confidence'] } } }],
    });
  });

  it('rejects arguments that are not JSON or do not match the schema, and refusals', async () => {
    queue.push(call('report_triage', '{"verdict": '));
    await expect(ask()).rejects.toMatchObject({ code: 'MODEL_OUTPUT_INVALID', usage: { inputTokens: 50, outputTokens: 10 } });
    queue.push(call('report_triage', '{"verdict":"nope","confidence":2}'));
    await expect(ask()).rejects.toMatchObject({ code: 'MODEL_OUTPUT_INVALID' });
    queue.push(completion({ content: '' }, 'content_filter'));
    await expect(ask()).rejects.toMatchObject({ code: 'MODEL_REFUSED' });
    queue.push({ status: 200, body: 'not json' });
    await expect(ask()).rejects.toMatchObject({ code: 'MODEL_ERROR' });
  });

  it('retries 429 and 5xx, then reports MODEL_THROTTLED', async () => {
    queue.push({ status: 429, body: { error: { message: 'slow down' } } }, { status: 503, body: {} }, call('report_triage', '{"verdict":"true_positive","confidence":1}'));
    await expect(ask()).resolves.toMatchObject({ value: { verdict: 'true_positive' } });
    expect(received).toHaveLength(3);
    received.length = 0;
    for (let i = 0; i < 4; i++) queue.push({ status: 429, body: {} });
    await expect(ask()).rejects.toMatchObject({ code: 'MODEL_THROTTLED' });
    expect(received).toHaveLength(4);
  });

  it('maps a 400 to MODEL_REQUEST_INVALID without retrying, and times out', async () => {
    queue.push({ status: 400, body: { error: { message: 'unknown model' } } });
    await expect(ask()).rejects.toMatchObject({ code: 'MODEL_REQUEST_INVALID', message: expect.stringContaining('unknown model') });
    expect(received).toHaveLength(1);
    queue.push({ ...completion({ content: 'late' }, 'stop'), delayMs: 1_000 });
    await expect(provider().converse({ modelId: 'm', messages: [{ role: 'user', content: [{ text: 'x' }] }], maxTokens: 5, timeoutMs: 100 })).rejects.toMatchObject({ code: 'MODEL_TIMEOUT' });
  });

  it('sends tool calls and results of a conversation in function-calling form', async () => {
    queue.push(completion({ content: 'done' }, 'stop'));
    const result = await provider().converse({
      modelId: 'm',
      messages: [
        { role: 'user', content: [{ text: 'find' }] },
        { role: 'assistant', content: [{ toolUse: { id: 't1', name: 'search', input: { q: 'sql' } } }] },
        { role: 'user', content: [{ toolResult: { toolUseId: 't1', content: 'two hits' } }] },
      ],
      tools: [{ name: 'search', description: 'd', inputSchema: { type: 'object' } }],
      toolChoice: { type: 'auto' },
      maxTokens: 5,
    });
    expect(result).toMatchObject({ content: 'done', stopReason: 'end_turn' });
    expect(received[0]?.body.messages).toEqual([
      { role: 'user', content: 'find' },
      { role: 'assistant', content: null, tool_calls: [{ id: 't1', type: 'function', function: { name: 'search', arguments: '{"q":"sql"}' } }] },
      { role: 'tool', tool_call_id: 't1', content: 'two hits' },
    ]);
    expect(received[0]?.body.tool_choice).toBe('auto');
  });

  it('is chosen by MODEL_PROVIDER, and a missing base URL is a configuration error', () => {
    process.env.MODEL_PROVIDER = 'openai-compatible';
    delete process.env.OPENAI_BASE_URL;
    expect(() => platformProvider()).toThrow('OPENAI_BASE_URL');
    process.env.OPENAI_BASE_URL = baseUrl;
    expect(platformProvider().name).toBe('openai-compatible');
    expect(platformProvider()).toBe(platformProvider());
    process.env.MODEL_PROVIDER = 'something';
    expect(() => platformProvider()).toThrow('MODEL_PROVIDER');
    delete process.env.MODEL_PROVIDER;
    delete process.env.OPENAI_BASE_URL;
    expect(platformProvider().name).toBe('bedrock');
  });
});
