/**
 * The AI routes: the assistant, fix-first suggestions and explanations. Every one needs a configured model (503
 * AI_NOT_CONFIGURED otherwise, before anything is read), spends the caller's daily token budget (429 when it is
 * spent), and reads only the caller's own data: the assistant's tools are closures over the caller's id and
 * check ownership of every id the model names.
 */
import * as v from 'valibot';
import type { FindingTriage, Severity } from '../analysis/types.ts';
import { appendConversationTurn, getConversation, newConversation } from '../db/conversations.ts';
import { allRepositoriesOf, getRepository } from '../db/repositories.ts';
import { recordVulnerabilityExplanation } from '../db/vulnerability-explanations.ts';
import { latestFixPullRequest } from '../db/fix-pull-requests.ts';
import { getVulnerability, listVulnerabilities, type Vulnerability } from '../db/vulnerabilities.ts';
import { NotFoundError, ServiceUnavailableError, TooManyRequestsError } from '../http/errors.ts';
import { chatTool, chatTurn, type ChatTool } from '../llm/chat.ts';
import type { FindingBrief } from '../llm/context.ts';
import { explainSnippet } from '../llm/explanation.ts';
import { MODEL_ENV, requireModel } from '../llm/models.ts';
import type { Explanation } from '../llm/prompts/explain.ts';
import { suggestPrompt, type SuggestionCandidate } from '../llm/prompts/suggest.ts';
import type { ModelErrorCode } from '../llm/provider.ts';
import { runPrompt, type ModelContext, type PromptOutcome } from '../llm/run.ts';
import { TriageView } from '../platform/routes/ai.ts';
import { logger } from '../runtime/powertools.ts';
import { dashboardStats } from './dashboard.ts';
import { toRepositorySummary } from './mappers.ts';
import { repositoryStatistics } from './repositories.ts';
import { fixPullRequestSummary } from './vulnerabilities.ts';

const SEVERITY_ORDER: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];
const DAY_MS = 86_400_000;

/** Model settings of the routes (tests inject a provider; the platform's by default). */
export type AiContext = Omit<ModelContext, 'scope'>;

/** Seconds until the next UTC midnight, when the daily budget window turns over. */
function secondsToNextUtcDay(now = Date.now()): number {
  const next = new Date(now);
  next.setUTCHours(24, 0, 0, 0);
  return Math.ceil((next.getTime() - now) / 1000);
}

function budgetExhausted(): never {
  throw new TooManyRequestsError(
    secondsToNextUtcDay(),
    `Your daily AI token budget is spent (${MODEL_ENV.dailyTokenBudget}); it renews at 00:00 UTC`,
    'AI_BUDGET_EXHAUSTED',
  );
}

function modelFailed(code: ModelErrorCode, message: string): never {
  throw new ServiceUnavailableError(`The AI model could not answer: ${message}`, code);
}

/** The value of an answered prompt, or the route's error for a spent budget (429) or a failed call (503). */
function answered<T>(outcome: PromptOutcome<T>): Extract<PromptOutcome<T>, { status: 'ok' }> {
  if (outcome.status === 'budget_exhausted') budgetExhausted();
  if (outcome.status === 'failed') modelFailed(outcome.code, outcome.message);
  return outcome;
}

const usageOf = (outcome: { usage: { inputTokens: number; outputTokens: number } }, called: boolean) => ({
  inputTokens: outcome.usage.inputTokens,
  outputTokens: outcome.usage.outputTokens,
  calls: called ? 1 : 0,
});

// ------------------------------------------------------------------------------------------------ assistant tools

const triageOf = (vuln: Vulnerability): FindingTriage | undefined => vuln.triage as FindingTriage | undefined;

/** What the assistant is told about one finding: no keys, no owner, the snippet already masked by the scanner. */
function findingForModel(vuln: Vulnerability) {
  const triage = triageOf(vuln);
  return {
    id: vuln.id,
    repositoryId: vuln.repositoryId,
    type: vuln.type,
    severity: vuln.severity,
    status: vuln.status,
    cwe: vuln.cweId,
    filePath: vuln.filePath,
    lineNumber: vuln.lineNumber,
    description: vuln.description,
    codeSnippet: vuln.codeSnippet,
    detectedAt: vuln.detectedAt,
    triage: triage ? { verdict: triage.verdict, confidence: triage.confidence, reasoning: triage.reasoning } : null,
  };
}

const SEARCH_SCAN_LIMIT = 100;
const SEARCH_RESULT_LIMIT = 20;

const SearchInput = v.object({
  text: v.optional(v.pipe(v.string(), v.maxLength(200), v.description('Words to look for in the type, file path, description or CWE'))),
  severity: v.optional(v.picklist(SEVERITY_ORDER)),
  status: v.optional(v.picklist(['open', 'fixed', 'false_positive', 'ignored']), 'open'),
  repositoryId: v.optional(v.pipe(v.string(), v.maxLength(64), v.description('Only this repository (an id from the statistics tool)'))),
  limit: v.optional(v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(SEARCH_RESULT_LIMIT)), 10),
});

/** The assistant's tools, bound to `userId`: nothing the model passes can reach another user's data. */
export function assistantTools(userId: string): ChatTool[] {
  return [
    chatTool({
      name: 'search_findings',
      description: "Search the user's vulnerabilities (newest first) by words, severity, status (default open) and repository.",
      schema: SearchInput,
      run: async (input) => {
        if (input.repositoryId !== undefined) {
          try {
            await getRepository(userId, input.repositoryId);
          } catch (error) {
            if (error instanceof NotFoundError) return { found: 0, findings: [], note: 'No such repository among this user\'s repositories.' };
            throw error;
          }
        }
        const page = await listVulnerabilities(
          userId,
          { severity: input.severity, status: input.status, repositoryId: input.repositoryId },
          { page: 1, limit: SEARCH_SCAN_LIMIT },
          0,
        );
        const words = (input.text ?? '').toLowerCase().split(/\s+/).filter(Boolean);
        const matches = page.items.filter((item) => {
          const haystack = `${item.type} ${item.filePath} ${item.description} ${item.cweId ?? ''}`.toLowerCase();
          return words.every((w) => haystack.includes(w));
        });
        // Words are matched in the newest findings of the filters only: the model is told when that was not all of them.
        const partial = words.length > 0 && page.items.length < page.total;
        return {
          found: words.length === 0 ? page.total : matches.length,
          findings: matches.slice(0, input.limit).map(findingForModel),
          ...(partial ? { note: `The words were matched in the newest ${page.items.length} of the ${page.total} findings with these filters; narrow by severity, status or repository to reach older ones.` } : {}),
        };
      },
    }),
    chatTool({
      name: 'get_finding',
      description: 'One vulnerability of the user by its id, with its code snippet, triage and fix pull request.',
      schema: v.object({ id: v.pipe(v.string(), v.minLength(1), v.maxLength(64)) }),
      run: async ({ id }) => {
        try {
          const stored = await getVulnerability(userId, id);
          const pr = await latestFixPullRequest(stored.id);
          return {
            ...findingForModel(stored),
            fixPullRequest: fixPullRequestSummary(stored, pr) ?? null,
            recommendation: stored.recommendation,
          };
        } catch (error) {
          if (error instanceof NotFoundError) return { found: false, note: 'No vulnerability with this id among this user\'s findings.' };
          throw error;
        }
      },
    }),
    chatTool({
      name: 'get_repository_statistics',
      description: "Statistics of one of the user's repositories by id, or without an id an overview of all of them (ids, names, counts, scores).",
      schema: v.object({ repositoryId: v.optional(v.pipe(v.string(), v.minLength(1), v.maxLength(64))) }),
      run: async ({ repositoryId }) => {
        if (repositoryId === undefined) {
          const [repos, stats] = await Promise.all([allRepositoriesOf(userId), dashboardStats(userId)]);
          return { overview: stats, repositories: repos.slice(0, 50).map(toRepositorySummary) };
        }
        try {
          return await repositoryStatistics(userId, repositoryId);
        } catch (error) {
          if (error instanceof NotFoundError) return { found: false, note: 'No such repository among this user\'s repositories.' };
          throw error;
        }
      },
    }),
  ];
}

// ---------------------------------------------------------------------------------------------------------- chat

/** `POST /ai/chat`: one turn; the message and the answer are stored only when the model answered. */
export async function aiChat(userId: string, body: { conversationId?: string; message: string }, ai: AiContext = {}) {
  requireModel('main');
  const conversation = body.conversationId === undefined ? newConversation(userId) : await getConversation(userId, body.conversationId);
  const outcome = await chatTurn(
    { history: conversation.messages.map((m) => ({ role: m.role, text: m.text })), message: body.message, tools: assistantTools(userId) },
    { ...ai, scope: { userId } },
  );
  if (outcome.status === 'budget_exhausted') budgetExhausted();
  if (outcome.status === 'failed') modelFailed(outcome.code, outcome.message);
  const saved = await appendConversationTurn(conversation, { message: body.message, reply: outcome.reply });
  return {
    conversationId: saved.id,
    reply: outcome.reply,
    toolCalls: outcome.toolCalls.map((c) => ({ name: c.name, ok: c.ok })),
    model: outcome.modelId,
    usage: { ...outcome.usage },
    createdAt: saved.updatedAt,
  };
}

// --------------------------------------------------------------------------------------------------- suggestions

/** Open findings the model ranks: the most severe first. */
export const MAX_SUGGESTION_CANDIDATES = 30;

function ageText(detectedAt: string, now: number): string {
  const weeks = Math.floor((now - Date.parse(detectedAt)) / (7 * DAY_MS));
  if (weeks < 1) return 'under a week';
  if (weeks < 9) return `${weeks} week${weeks === 1 ? '' : 's'}`;
  return `${Math.floor(weeks / 4.345)} months`;
}

/** The caller's open findings, most severe first, confident false positives last. */
async function openCandidates(userId: string): Promise<Vulnerability[]> {
  const picked: Vulnerability[] = [];
  for (const severity of SEVERITY_ORDER) {
    if (picked.length >= MAX_SUGGESTION_CANDIDATES) break;
    const page = await listVulnerabilities(userId, { severity, status: 'open' }, { page: 1, limit: MAX_SUGGESTION_CANDIDATES - picked.length }, 0);
    picked.push(...page.items);
  }
  const lowered = (vuln: Vulnerability) => (triageOf(vuln)?.priority === 'lowered' ? 1 : 0);
  return picked.sort(
    (a, b) =>
      lowered(a) - lowered(b) ||
      SEVERITY_ORDER.indexOf(a.severity) - SEVERITY_ORDER.indexOf(b.severity) ||
      (b.cvssScore ?? 0) - (a.cvssScore ?? 0) ||
      a.detectedAt.localeCompare(b.detectedAt) ||
      a.id.localeCompare(b.id),
  );
}

/** `GET /ai/suggestions`: what to fix first and why, from the caller's open findings. */
export async function aiSuggestions(userId: string, ai: AiContext = {}, now = new Date()) {
  requireModel('main');
  const [open, repos] = await Promise.all([openCandidates(userId), allRepositoriesOf(userId)]);
  const generatedAt = now.toISOString();
  if (open.length === 0) {
    return { summary: 'You have no open vulnerabilities: nothing to fix right now.', suggestions: [], considered: 0, model: null, cached: false, generatedAt };
  }
  const names = new Map(repos.map((r) => [r.id, r.fullName]));
  const byRef = new Map<string, Vulnerability>();
  const candidates: SuggestionCandidate[] = open.map((vuln, i) => {
    const ref = `F${i + 1}`;
    byRef.set(ref, vuln);
    const triage = triageOf(vuln);
    return {
      ref,
      type: vuln.type,
      severity: vuln.severity,
      cwe: vuln.cweId,
      cvss: vuln.cvssScore,
      repository: names.get(vuln.repositoryId) ?? 'unknown repository',
      filePath: vuln.filePath,
      lineNumber: vuln.lineNumber,
      description: vuln.description,
      snippet: vuln.codeSnippet,
      age: ageText(vuln.detectedAt, now.getTime()),
      triage: triage ? `${triage.verdict} (confidence ${triage.confidence})` : null,
    };
  });
  const outcome = answered(await runPrompt(suggestPrompt, { candidates }, { ...ai, scope: { userId } }));
  const suggestions = outcome.value.suggestions.flatMap((s) => {
    // The prompt's check already rejected refs that were not given; this keeps the types honest.
    const vuln = byRef.get(s.ref);
    if (!vuln) return [];
    return [{ vulnerabilityId: vuln.id, repositoryId: vuln.repositoryId, type: vuln.type, severity: vuln.severity, filePath: vuln.filePath, lineNumber: vuln.lineNumber, title: s.title, reason: s.reason }];
  });
  return { summary: outcome.value.summary, suggestions, considered: open.length, model: outcome.modelId, cached: outcome.cached, generatedAt };
}

// -------------------------------------------------------------------------------------------------- explanations

function briefOf(vuln: Vulnerability): FindingBrief {
  const lines = Math.max(1, vuln.codeSnippet.split(/\r\n|\r|\n/).length);
  return {
    ruleId: vuln.ruleId,
    kind: vuln.kind,
    type: vuln.type,
    message: vuln.description,
    severity: vuln.severity,
    cwe: vuln.cweId ? [vuln.cweId] : [],
    location: { path: vuln.filePath, startLine: vuln.lineNumber, startColumn: 1, endLine: vuln.lineNumber + lines - 1, endColumn: 1 },
    snippet: vuln.codeSnippet,
  };
}

/** The explanation also fills the vulnerability's own fields; a failed write costs only that, never the answer. */
async function keepOnVulnerability(vuln: Vulnerability, value: Explanation): Promise<void> {
  try {
    await recordVulnerabilityExplanation(vuln.userId, vuln.id, {
      explanation: `${value.summary}\n\n${value.howExploited}`,
      impact: value.impact,
      recommendation: vuln.recommendation === null ? `${value.fix}\n\n${value.prevention}` : undefined,
    });
  } catch (error) {
    logger.warn('Could not keep an explanation on its vulnerability', { vulnerabilityId: vuln.id, error: error as Error });
  }
}

async function explainStored(userId: string, vulnerabilityId: string, ai: AiContext) {
  requireModel('main');
  const vuln = await getVulnerability(userId, vulnerabilityId);
  const outcome = answered(await explainSnippet(briefOf(vuln), vuln.codeSnippet, vuln.lineNumber, { ...ai, scope: { userId } }));
  if (!outcome.cached || vuln.explanation === null) await keepOnVulnerability(vuln, outcome.value);
  // Stored by the scan pipeline as it was written; only a complete verdict is shown.
  const triage = v.safeParse(TriageView, triageOf(vuln));
  return {
    vulnerabilityId: vuln.id,
    triage: triage.success ? triage.output : null,
    explanation: { ...outcome.value },
    model: outcome.modelId,
    promptVersion: outcome.promptVersion,
    cached: outcome.cached,
    usage: usageOf(outcome, !outcome.cached),
  };
}

/** `GET /vulnerabilities/:id/explanation`: cached by the finding, its code, the model and the prompt version. */
export function vulnerabilityExplanation(userId: string, vulnerabilityId: string, ai: AiContext = {}) {
  return explainStored(userId, vulnerabilityId, ai);
}

export type ExplainRequest =
  | { readonly vulnerabilityId: string }
  | {
      readonly finding: { type: string; message?: string; severity?: Severity; cwe?: string; filePath?: string; startLine?: number };
      readonly code: string;
    };

/** `POST /ai/explain-vulnerability`: one of the caller's vulnerabilities by id, or a posted finding and its code. */
export async function explainVulnerability(userId: string, body: ExplainRequest, ai: AiContext = {}) {
  if ('vulnerabilityId' in body) return explainStored(userId, body.vulnerabilityId, ai);
  requireModel('main');
  const { finding, code } = body;
  const startLine = finding.startLine ?? 1;
  const lineCount = Math.max(1, code.split(/\r\n|\r|\n/).length);
  const brief: FindingBrief = {
    ruleId: 'user/posted',
    kind: 'external',
    type: finding.type,
    message: finding.message ?? finding.type,
    severity: finding.severity ?? 'medium',
    cwe: finding.cwe ? [`CWE-${finding.cwe.replace(/^CWE-/i, '')}`] : [],
    location: { path: finding.filePath ?? 'snippet', startLine, startColumn: 1, endLine: startLine + lineCount - 1, endColumn: 1 },
    snippet: code.split(/\r\n|\r|\n/).find((line) => line.trim() !== '')?.trim().slice(0, 200) ?? '',
  };
  const outcome = answered(await explainSnippet(brief, code, startLine, { ...ai, scope: { userId } }));
  return { vulnerabilityId: null, triage: null, explanation: { ...outcome.value }, model: outcome.modelId, promptVersion: outcome.promptVersion, cached: outcome.cached, usage: usageOf(outcome, !outcome.cached) };
}
