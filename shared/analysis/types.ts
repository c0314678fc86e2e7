/**
 * The scanner's data contract. Structural rules, the taint engine, secret detection, the model pass and
 * imported external analyzers all produce `Finding`s; outputs, storage and fixes consume them.
 */
import type { SgRoot } from '@ast-grep/napi';

export type Severity = 'critical' | 'high' | 'medium' | 'low' | 'info';
export type Confidence = 'high' | 'medium' | 'low';
export type LanguageId = 'javascript' | 'typescript' | 'tsx' | 'python' | 'java' | 'go';
export type FindingKind = 'rule' | 'taint' | 'secret' | 'model' | 'external';

/** 1-based lines and columns, end inclusive of the last character's line. */
export interface Location {
  readonly path: string;
  readonly startLine: number;
  readonly startColumn: number;
  readonly endLine: number;
  readonly endColumn: number;
}

export interface FlowStep extends Location {
  /** What happens here, e.g. `request parameter "id"`, `concatenated into query`, `passed to executeQuery`. */
  readonly label: string;
}

/** A text replacement inside one file (byte offsets into the UTF-8 source). */
export interface Edit {
  readonly startByte: number;
  readonly endByte: number;
  readonly replacement: string;
}

export interface FindingFix {
  readonly description: string;
  readonly edits: readonly Edit[];
}

export interface Suppression {
  readonly kind: 'inline' | 'nosec' | 'nosemgrep' | 'config';
  readonly reason: string;
}

/**
 * The model's triage of a finding. Advisory only: it may lower the finding's priority and is shown with its
 * reasoning; it never changes severity or status and never removes the finding.
 */
export interface FindingTriage {
  readonly verdict: 'true_positive' | 'false_positive' | 'uncertain';
  /** 0 to 1. */
  readonly confidence: number;
  readonly reasoning: string;
  readonly model: string;
  /** Prompt id and version, e.g. `triage@1`. */
  readonly promptVersion: string;
  /** `lowered` for a confident false-positive verdict. */
  readonly priority: 'normal' | 'lowered';
  /** True when the answer came from the cache (no model call). */
  readonly cached: boolean;
}

export interface Finding {
  readonly ruleId: string;
  readonly kind: FindingKind;
  /** Human category, e.g. `SQL Injection`: the vulnerability's `type` in the API. */
  readonly type: string;
  readonly message: string;
  readonly severity: Severity;
  readonly confidence: Confidence;
  /** e.g. `CWE-89`. */
  readonly cwe: readonly string[];
  /** OWASP Top 10 2021 category, e.g. `A03:2021-Injection`. */
  readonly owasp?: string;
  /** CVSS v3.1 base score, 0–10. */
  readonly cvss?: number;
  readonly references?: readonly string[];
  readonly location: Location;
  /** The matched code, with any secret in it masked. */
  readonly snippet: string;
  /** rule + file + normalised code; never the line number. */
  readonly fingerprint: string;
  /** Source → … → sink, for taint findings. */
  readonly dataflow?: readonly FlowStep[];
  readonly fix?: FindingFix;
  /** Set when a suppression applies; suppressed findings are kept for the record, not reported. */
  readonly suppression?: Suppression;
  /** Added by the scan's model triage when a model is configured; persisted with the vulnerability. */
  readonly triage?: FindingTriage;
}

/** What each analyzer receives for one file. The root is parsed once, when first read, and shared by all of them. */
export interface FileContext {
  /** Path relative to the scan root, `/`-separated. */
  readonly path: string;
  readonly language: LanguageId | undefined;
  readonly source: string;
  /** Parsed tree; undefined for files no parser handles (secrets still run on them). */
  readonly root: SgRoot | undefined;
}

/** A finding before fingerprinting and suppression, which the scanner adds uniformly. */
export type RawFinding = Omit<Finding, 'fingerprint' | 'suppression'>;

export interface Analyzer {
  readonly id: string;
  /** Languages this analyzer handles; `all` includes files without a parser. */
  readonly languages: readonly LanguageId[] | 'all';
  analyze(file: FileContext): RawFinding[];
}
