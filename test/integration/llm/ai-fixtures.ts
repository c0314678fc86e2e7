import { randomUUID } from 'node:crypto';
import { startConverseServer, textReply, toolReply, type ConverseServer, type RecordedConverse, type ScriptedReply } from '../../support/converse-server.ts';
import type { PreparedRequest, RouteFixtures } from '../api/support.ts';

// The AI routes need a model: their fixtures point the stack at a local Converse server that answers every
// prompt with a valid reply for its tool, so the cross-route tests exercise the real handlers end to end.

export const FIXTURE_MODEL = 'anthropic.claude-3-5-sonnet-20240620-v1:0';

/** A valid answer for whichever prompt a request carries (its forced tool), or plain text for the assistant. */
export function answerFor(request: RecordedConverse): ScriptedReply {
  const choice = request.body.toolConfig?.toolChoice as { tool?: { name?: string } } | undefined;
  const tool = choice?.tool?.name;
  if (tool === 'report_explanation') {
    return toolReply(tool, {
      summary: 'User input reaches a SQL query unescaped.',
      howExploited: "Send id=1 OR 1=1 to read every row.",
      impact: 'Any row of the database can be read or changed.',
      fix: 'Use a parameterised query: db.query("SELECT * FROM t WHERE id = ?", [id]).',
      prevention: 'Never build SQL from strings; use the driver\'s placeholders everywhere.',
    });
  }
  if (tool === 'report_suggestions') {
    return toolReply(tool, { summary: 'Start with the injection.', suggestions: [{ ref: 'F1', title: 'Parameterise the query', reason: 'Critical and reachable from a request.' }] });
  }
  if (tool === 'report_triage') {
    return toolReply(tool, { verdict: 'true_positive', confidence: 0.9, reasoning: 'Request input reaches the sink unescaped.' });
  }
  return textReply('I can only see your own findings; ask me about them.');
}

let shared: Promise<ConverseServer> | undefined;

/** One Converse server for the test process, answering every prompt validly; it never keeps the process alive. */
export function fixtureModelServer(): Promise<ConverseServer> {
  shared ??= startConverseServer().then((server) => {
    server.setFallback(answerFor);
    server.unref();
    return server;
  });
  return shared;
}

/** The settings that turn the model on for one request, against the fixture server. */
export async function modelEnv(): Promise<Record<string, string>> {
  const server = await fixtureModelServer();
  return { BEDROCK_MODEL_ID: FIXTURE_MODEL, AWS_ENDPOINT_URL_BEDROCK_RUNTIME: server.endpoint };
}

/** Loaded when a fixture runs: fixtures-b.ts spreads these fixtures, so a static import would be circular. */
async function repositoryWithVulnerability(...args: Parameters<typeof import('../api/fixtures-b.ts').repositoryWithVulnerability>) {
  return (await import('../api/fixtures-b.ts')).repositoryWithVulnerability(...args);
}

const withModel = async (request: PreparedRequest): Promise<PreparedRequest> => ({ ...request, env: { ...request.env, ...(await modelEnv()) } });

export const aiRouteFixtures: RouteFixtures = {
  'POST /api/ai/chat': { prepare: async () => withModel({ body: { message: `Which of my findings are critical? (${randomUUID().slice(0, 8)})` } }) },
  'GET /api/ai/suggestions': {
    prepare: async (api, owner) => {
      await repositoryWithVulnerability(api, owner, 'critical');
      return withModel({});
    },
  },
  'POST /api/ai/explain-vulnerability': {
    prepare: async (api, owner) => withModel({ body: { vulnerabilityId: (await repositoryWithVulnerability(api, owner)).vulnerabilityId } }),
  },
  'GET /api/ai/usage': { prepare: async () => ({}) },
  'GET /api/vulnerabilities/{id}/explanation': {
    prepare: async (api, owner) => withModel({ params: { id: (await repositoryWithVulnerability(api, owner)).vulnerabilityId } }),
  },
};
