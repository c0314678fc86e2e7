import * as v from 'valibot';
import type { RouteDecl } from '../declarations.ts';
import { IdParams, ResourceId, Timestamp } from './repositories.ts';

const SEVERITY = ['critical', 'high', 'medium', 'low', 'info'] as const;

/** Longest chat message and posted snippet accepted: enough for a question with a pasted function. */
export const MAX_CHAT_MESSAGE_CHARS = 4000;
export const MAX_SNIPPET_CHARS = 20_000;

const Text = (max: number) => v.pipe(v.string(), v.regex(/\S/, 'Must not be empty'), v.maxLength(max, `Must be at most ${max} characters`));

export const ChatBody = v.strictObject({
  /** Continue a conversation; omitted starts a new one. */
  conversationId: v.optional(ResourceId),
  message: Text(MAX_CHAT_MESSAGE_CHARS),
});

export const ModelTurnUsage = v.object({ inputTokens: v.number(), outputTokens: v.number(), calls: v.number() });

export const ChatResponse = v.object({
  conversationId: v.string(),
  reply: v.string(),
  /** Tools the assistant used for this answer (all bound to the caller's own data). */
  toolCalls: v.array(v.object({ name: v.string(), ok: v.boolean() })),
  model: v.string(),
  usage: ModelTurnUsage,
  createdAt: Timestamp,
});

export const SuggestionsResponse = v.object({
  summary: v.string(),
  suggestions: v.array(
    v.object({
      vulnerabilityId: v.string(),
      repositoryId: v.string(),
      type: v.string(),
      severity: v.picklist(SEVERITY),
      filePath: v.string(),
      lineNumber: v.number(),
      title: v.string(),
      reason: v.string(),
    }),
  ),
  /** Open findings considered (the most severe first, at most a few dozen). */
  considered: v.number(),
  model: v.nullable(v.string()),
  cached: v.boolean(),
  generatedAt: Timestamp,
});

/** A finding described by the caller, for code that was not scanned. */
export const PostedFinding = v.strictObject({
  type: Text(100),
  message: v.optional(Text(1000)),
  severity: v.optional(v.picklist(SEVERITY)),
  cwe: v.optional(v.pipe(v.string(), v.regex(/^(?:[Cc][Ww][Ee]-)?\d{1,5}$/, 'Must be a CWE id such as CWE-89'))),
  filePath: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(512))),
  /** The snippet's first line in its file. @default 1 */
  startLine: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(10_000_000))),
});

/** Either a stored vulnerability of the caller, or a posted finding with its code. */
export const ExplainBody = v.union([
  v.strictObject({ vulnerabilityId: ResourceId }),
  v.strictObject({ finding: PostedFinding, code: Text(MAX_SNIPPET_CHARS) }),
]);

/** The scan triage's verdict on a stored vulnerability: advisory, shown with its reasoning; a person decides. */
export const TriageView = v.object({
  verdict: v.picklist(['true_positive', 'false_positive', 'uncertain']),
  confidence: v.number(),
  reasoning: v.string(),
  priority: v.picklist(['normal', 'lowered']),
  model: v.string(),
  promptVersion: v.string(),
});

export const ExplanationResponse = v.object({
  vulnerabilityId: v.nullable(v.string()),
  /** The scan triage's verdict when the vulnerability has one; null for posted code. */
  triage: v.nullable(TriageView),
  explanation: v.object({ summary: v.string(), howExploited: v.string(), impact: v.string(), fix: v.string(), prevention: v.string() }),
  model: v.string(),
  promptVersion: v.string(),
  /** True when served from the cache (same code, finding and prompt version): no model call was made. */
  cached: v.boolean(),
  usage: ModelTurnUsage,
});

/** Model usage as shown in the scan detail and the statistics; cost is an estimate from on-demand prices. */
export const ModelUsageSchema = v.object({
  inputTokens: v.number(),
  outputTokens: v.number(),
  totalTokens: v.number(),
  calls: v.number(),
  estimatedCostUsd: v.number(),
});

/** The scan detail's model pass: what it did and what it cost; null when the scan had none yet. */
export const ScanModelSchema = v.nullable(
  v.object({
    status: v.picklist(['running', 'complete', 'partial', 'budget_exhausted', 'skipped', 'failed']),
    message: v.string(),
    triaged: v.number(),
    cachedAnswers: v.number(),
    notTriaged: v.number(),
    discovered: v.number(),
    usage: ModelUsageSchema,
  }),
);

/** A user's model usage statistics: today (the daily budget's window), the last 30 days, and each of those days. */
export const UserModelUsageSchema = v.object({
  today: ModelUsageSchema,
  last30Days: ModelUsageSchema,
  /** Null when unlimited. */
  dailyTokenBudget: v.nullable(v.number()),
  /** Days with any usage, oldest first. */
  days: v.array(v.object({ day: v.pipe(v.string(), v.isoDate()), ...ModelUsageSchema.entries })),
});

export const aiRoutes = [
  {
    method: 'POST', path: '/api/ai/chat', access: 'user', entry: 'lambdas/http/ai-chat.ts', invokesModel: true,
    summary: "One turn with the security assistant, answered from the caller's own findings; the conversation is remembered",
    schemas: { body: ChatBody, response: ChatResponse },
  },
  {
    method: 'GET', path: '/api/ai/suggestions', access: 'user', entry: 'lambdas/http/get-ai-suggestions.ts', invokesModel: true,
    summary: "Which of the caller's open vulnerabilities to fix first, and why",
    schemas: { response: SuggestionsResponse },
  },
  {
    method: 'POST', path: '/api/ai/explain-vulnerability', access: 'user', entry: 'lambdas/http/explain-vulnerability.ts', invokesModel: true,
    summary: 'Explain a vulnerability (one of the caller\'s, or a posted finding with its code) for developers',
    schemas: { body: ExplainBody, response: ExplanationResponse },
  },
  {
    method: 'GET', path: '/api/ai/usage', access: 'user', entry: 'lambdas/http/get-ai-usage.ts',
    summary: "The caller's model tokens and estimated cost (scans and assistant): today, the last 30 days and per day",
    schemas: { response: UserModelUsageSchema },
  },
  {
    method: 'GET', path: '/api/vulnerabilities/{id}/explanation', access: 'user', entry: 'lambdas/http/get-vulnerability-explanation.ts', invokesModel: true,
    summary: 'The developer explanation of a vulnerability, cached by its code and the prompt version',
    schemas: { params: IdParams, response: ExplanationResponse },
  },
] as const satisfies readonly RouteDecl[];
