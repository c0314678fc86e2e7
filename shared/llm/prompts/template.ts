/**
 * A prompt is a versioned template: its id and version are part of every cache key, so changing a prompt's
 * wording (and bumping its version) never serves answers given to the old one.
 */
import type * as v from 'valibot';
import type { ModelRole } from '../models.ts';
import { untrustedDataRules } from '../untrusted.ts';

export interface PromptTemplate<TInput, TSchema extends v.GenericSchema> {
  readonly id: string;
  readonly version: number;
  /** Which configured model answers it. */
  readonly role: ModelRole;
  readonly toolName: string;
  readonly toolDescription: string;
  /** Validates the answer; the tool's input JSON schema is generated from it. */
  readonly schema: TSchema;
  readonly maxTokens: number;
  readonly temperature: number;
  /** The system prompt for one call (the untrusted-data boundary is fresh per call). */
  system(boundary: string): string;
  /** The user message for one call. */
  render(input: TInput, boundary: string): string;
  /** What the answer depends on, deterministic and already redacted: the content part of the cache key. */
  cacheContent(input: TInput): string;
  /** Checks against the input the schema cannot express; each string rejects the answer. */
  check?(output: v.InferOutput<TSchema>, input: TInput): string[];
}

/** `triage@3`. */
export const promptRef = (template: { readonly id: string; readonly version: number }): string => `${template.id}@${template.version}`;

/** The common opening of every scanner prompt: who the model is, and the untrusted-data rules. */
export function analystPreamble(boundary: string, task: string): string {
  return [
    'You are a senior application-security engineer working inside CodeGuardian, a code-security scanner.',
    task,
    untrustedDataRules(boundary),
    'Answer only by calling the provided tool exactly once. Be concrete and brief; never invent code, lines or facts that are not in the data.',
  ].join('\n\n');
}
