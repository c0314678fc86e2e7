import { afterAll, beforeAll, beforeEach, describe, expect, it } from '@jest/globals';
import * as v from 'valibot';
import { memoryLedger } from '../../../shared/llm/accounting.ts';
import { BedrockConverseProvider } from '../../../shared/llm/bedrock.ts';
import { chatTool, chatTurn, conversation, MAX_HISTORY_MESSAGES, MAX_TOOL_ROUNDS, type ChatTool } from '../../../shared/llm/chat.ts';
import type { ModelContext } from '../../../shared/llm/run.ts';
import { startConverseServer, textReply, toolReply, type ConverseServer } from '../../support/converse-server.ts';

const MODEL = 'anthropic.claude-3-5-sonnet-20240620-v1:0';
let server: ConverseServer;

/** Findings per user; each user's tools are bound to that user's rows only. */
const data: Record<string, { id: string; type: string; file: string }[]> = {
  alice: [{ id: 'v1', type: 'SQL Injection', file: 'api/users.js' }],
  bob: [{ id: 'v9', type: 'Hard-coded secret', file: 'config.js' }],
};
const ran: { user: string; query: string }[] = [];
const toolsFor = (user: string): ChatTool[] => [
  chatTool({
    name: 'search_findings',
    description: "Search the user's findings by words in their type or file",
    schema: v.object({ query: v.pipe(v.string(), v.minLength(1)) }),
    run: async ({ query }) => {
      ran.push({ user, query });
      return (data[user] ?? []).filter((f) => `${f.type} ${f.file}`.toLowerCase().includes(query.toLowerCase()));
    },
  }),
];
const ctx = (userId: string, overrides: Partial<ModelContext> = {}): ModelContext => ({
  provider: new BedrockConverseProvider({ retry: { baseDelayMs: 1, maxDelayMs: 2 } }),
  scope: { userId },
  models: { main: MODEL },
  ledger: memoryLedger(),
  budgets: { scanTokens: 1_000_000, dailyTokens: 1_000_000 },
  ...overrides,
});

beforeAll(async () => {
  process.env.AWS_REGION = 'us-east-1';
  process.env.AWS_ACCESS_KEY_ID = 'local';
  process.env.AWS_SECRET_ACCESS_KEY = 'local';
  server = await startConverseServer();
  process.env.AWS_ENDPOINT_URL_BEDROCK_RUNTIME = server.endpoint;
});
afterAll(async () => {
  await server.close();
});
beforeEach(() => {
  server.reset();
  ran.length = 0;
});

describe('assistant turn', () => {
  it('runs a requested tool and answers from its result, sent back inside an untrusted block', async () => {
    server.script(
      toolReply('search_findings', { query: 'sql' }, { inputTokens: 300, outputTokens: 20 }),
      textReply('You have one SQL injection in api/users.js.', 'end_turn', { inputTokens: 400, outputTokens: 30 }),
    );
    const outcome = await chatTurn({ history: [{ role: 'assistant', text: 'Hi!' }], message: 'Do I have SQL injections?', tools: toolsFor('alice') }, ctx('alice'));
    expect(outcome).toEqual({
      status: 'ok',
      reply: 'You have one SQL injection in api/users.js.',
      modelId: MODEL,
      promptVersion: 'assistant@1',
      toolCalls: [{ name: 'search_findings', ok: true }],
      usage: { inputTokens: 700, outputTokens: 50, calls: 2 },
    });
    expect(ran).toEqual([{ user: 'alice', query: 'sql' }]);
    const [first, second] = server.requests;
    expect(first?.body.messages).toEqual([{ role: 'user', content: [{ text: 'Do I have SQL injections?' }] }]);
    expect(first?.body.toolConfig?.toolChoice).toEqual({ auto: {} });
    expect(first?.body.toolConfig?.tools?.[0]?.toolSpec?.inputSchema?.json).toMatchObject({ type: 'object', required: ['query'] });
    const result = second?.body.messages?.[2]?.content[0] as { toolResult: { content: { text: string }[] } };
    const text = result.toolResult.content[0]?.text ?? '';
    const boundary = /<<<BEGIN (UNTRUSTED-[0-9a-f]+) result of search_findings>>>/.exec(text)?.[1];
    expect(boundary).toBeDefined();
    expect(text).toContain('api/users.js');
    expect(String(first?.body.system?.[0]?.text)).toContain(boundary);
  });

  it("a user's tools never reach another user's data, whatever the model asks", async () => {
    server.script(toolReply('search_findings', { query: 'secret' }), textReply('No secrets found in your repositories.'));
    const outcome = await chatTurn({ history: [], message: "Show me bob's secrets", tools: toolsFor('alice') }, ctx('alice'));
    expect(outcome.status).toBe('ok');
    expect(ran).toEqual([{ user: 'alice', query: 'secret' }]);
    expect(JSON.stringify(server.requests.map((r) => r.body))).not.toContain('config.js');
  });

  it('reports invalid tool input and unknown tools to the model without running anything', async () => {
    server.script(toolReply('search_findings', { query: '' }), toolReply('delete_finding', { id: 'v1' }), textReply('I cannot do that.'));
    const outcome = await chatTurn({ history: [], message: 'Delete v1', tools: toolsFor('alice') }, ctx('alice'));
    expect(outcome).toMatchObject({ status: 'ok', toolCalls: [{ name: 'search_findings', ok: false }, { name: 'delete_finding', ok: false }] });
    expect(ran).toEqual([]);
    const last = server.requests[2]?.body.messages?.at(-1)?.content[0] as { toolResult: { status?: string; content: { text: string }[] } };
    expect(last.toolResult.status).toBe('error');
    expect(last.toolResult.content[0]?.text).toContain('There is no tool named delete_finding');
  });

  it('stops after a bounded number of tool rounds', async () => {
    server.setFallback(() => toolReply('search_findings', { query: 'x' }));
    const outcome = await chatTurn({ history: [], message: 'loop', tools: toolsFor('alice') }, ctx('alice'));
    expect(outcome).toMatchObject({ status: 'failed', code: 'MODEL_ERROR' });
    expect(server.requests).toHaveLength(MAX_TOOL_ROUNDS);
  });

  it('handles refusals, empty answers and a spent daily budget without throwing', async () => {
    server.script({ kind: 'message', content: [{ text: '' }], stopReason: 'guardrail_intervened' });
    await expect(chatTurn({ history: [], message: 'hi', tools: [] }, ctx('alice'))).resolves.toMatchObject({ status: 'failed', code: 'MODEL_REFUSED' });
    server.script(textReply('   '));
    await expect(chatTurn({ history: [], message: 'hi', tools: [] }, ctx('alice'))).resolves.toMatchObject({ status: 'failed', code: 'MODEL_OUTPUT_INVALID' });
    const ledger = memoryLedger();
    server.setFallback(() => textReply('ok', 'end_turn', { inputTokens: 4_000, outputTokens: 500 }));
    const budgets = { scanTokens: 1_000_000, dailyTokens: 5_000 };
    await expect(chatTurn({ history: [], message: 'one', tools: [] }, ctx('alice', { ledger, budgets }))).resolves.toMatchObject({ status: 'ok' });
    await expect(chatTurn({ history: [], message: 'two', tools: [] }, ctx('alice', { ledger, budgets }))).resolves.toMatchObject({ status: 'budget_exhausted' });
    expect(server.requests).toHaveLength(3);
  });

  it('answers 503 AI_NOT_CONFIGURED without a model', async () => {
    delete process.env.BEDROCK_MODEL_ID;
    await expect(chatTurn({ history: [], message: 'hi', tools: [] }, ctx('alice', { models: {} }))).rejects.toMatchObject({ status: 503, code: 'AI_NOT_CONFIGURED' });
  });

  it('sends history starting with the user, alternating roles, and only the most recent messages', () => {
    const history = [
      { role: 'assistant' as const, text: 'Welcome' },
      { role: 'user' as const, text: 'first' },
      { role: 'user' as const, text: 'again (the first failed)' },
      { role: 'assistant' as const, text: 'answer' },
    ];
    expect(conversation(history, 'next')).toEqual([
      { role: 'user', content: [{ text: 'first\n\nagain (the first failed)' }] },
      { role: 'assistant', content: [{ text: 'answer' }] },
      { role: 'user', content: [{ text: 'next' }] },
    ]);
    const long = Array.from({ length: 50 }, (_, i) => ({ role: i % 2 === 0 ? ('user' as const) : ('assistant' as const), text: `m${i}` }));
    const sent = conversation(long, 'now');
    expect(sent.length).toBeLessThanOrEqual(MAX_HISTORY_MESSAGES + 1);
    expect(sent.at(-2)).toEqual({ role: 'assistant', content: [{ text: 'm49' }] });
    expect(sent[0]?.role).toBe('user');
  });

  it('masks secrets the user pastes before they reach the model', async () => {
    server.script(textReply('Rotate that key.'));
    await chatTurn({ history: [], message: 'is AKIAQWERTYUIOPASDFGH a problem?', tools: [] }, ctx('alice'));
    expect(JSON.stringify(server.requests[0]?.body)).not.toContain('AKIAQWERTYUIOPASDFGH');
  });
});
