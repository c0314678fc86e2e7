/** The model layer's entry points for the scan pipeline, the fix workflow and the AI routes. */
export { chatTool, chatTurn, type ChatOutcome, type ChatTool, type ChatTurnInput } from './chat.ts';
export { discoverInChangedCode, type ChangedFile, type DiscoveryReport } from './discovery.ts';
export { explainFinding } from './explanation.ts';
export { proposeModelFix, type ModelFix } from './model-fix.ts';
export { modelConfigured, requireModel, tokenBudgets, type ModelRole, type TokenBudgets } from './models.ts';
export { ModelError, type ModelErrorCode, type ModelProvider } from './provider.ts';
export { platformProvider, runPrompt, type ModelContext, type PromptOutcome } from './run.ts';
export { triageFindings, type FindingTriage, type TriagedFinding, type TriageReport } from './triage.ts';
export type { SourceFiles } from './context.ts';
