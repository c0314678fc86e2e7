export { assistantPrompt } from './assistant.ts';
export { discoverPrompt, DiscoverySchema, type DiscoveryAnswer, type DiscoveryInput } from './discover.ts';
export { explainPrompt, ExplanationSchema, type Explanation, type ExplainInput } from './explain.ts';
export { fixPrompt, FixSchema, FIX_WINDOW_LINES, type FixAnswer, type FixInput } from './fix.ts';
export { promptRef, type PromptTemplate } from './template.ts';
export { triagePrompt, TriageSchema, type TriageAnswer, type TriageInput } from './triage.ts';
export { MAX_SUGGESTIONS, suggestPrompt, SuggestionsSchema, type SuggestInput, type SuggestionCandidate, type SuggestionsAnswer } from './suggest.ts';
