// The title, body and commit message of a fix pull request.

export interface FixDescription {
  readonly vulnerabilityId: string;
  readonly type: string;
  readonly ruleId: string;
  readonly severity: string;
  readonly cweId: string | null;
  readonly filePath: string;
  readonly lineNumber: number;
  /** What the finding says is wrong. */
  readonly problem: string;
  /** What the fix changes and why. */
  readonly explanation: string;
  readonly diff: string;
  readonly source: 'rule' | 'model';
  readonly confidence: number;
  readonly evidence: Readonly<Record<string, unknown>>;
}

/** `🔒 Security Fix: <type>`. */
export function fixTitle(type: string): string {
  return `🔒 Security Fix: ${type}`.slice(0, 256);
}

/** A code fence longer than any backtick run in `text`, so the content cannot close it. */
function fence(text: string, info = ''): string {
  const longest = Math.max(2, ...[...text.matchAll(/`+/g)].map((m) => m[0].length));
  const ticks = '`'.repeat(longest + 1);
  return `${ticks}${info}\n${text.replace(/\n$/, '')}\n${ticks}`;
}

/** Single-line text for Markdown prose (no headings or HTML from code-derived strings). */
function inline(text: string): string {
  return text.replace(/\s+/g, ' ').replace(/[<>]/g, (c) => (c === '<' ? '&lt;' : '&gt;')).trim();
}

function evidenceLines(evidence: Readonly<Record<string, unknown>>): string[] {
  const lines: string[] = [];
  if (evidence.parses === true) lines.push('- ✅ The changed file still parses');
  if (evidence.findingGone === true) lines.push('- ✅ A re-scan of the changed file no longer reports this finding');
  if (typeof evidence.newFindings === 'number') lines.push(`- ${evidence.newFindings === 0 ? '✅' : '⚠️'} New findings in the changed file: ${evidence.newFindings}`);
  if (typeof evidence.changedLines === 'number') lines.push(`- Changed lines: ${evidence.changedLines}, in this one file only`);
  if (typeof evidence.ruleset === 'string') lines.push(`- Ruleset: \`${inline(evidence.ruleset)}\``);
  return lines;
}

/** The pull request body: the problem, the explanation, the change, the validation evidence and the confidence. */
export function fixBody(d: FixDescription): string {
  const where = `\`${inline(d.filePath)}\` line ${d.lineNumber}`;
  const cwe = d.cweId ? `, ${d.cweId}` : '';
  return [
    `## ${fixTitle(d.type)}`,
    '',
    `**${inline(d.type)}** (${d.severity}${cwe}, rule \`${inline(d.ruleId)}\`) in ${where}: ${inline(d.problem)}`,
    '',
    '### Explanation',
    '',
    inline(d.explanation),
    '',
    '### Before / after',
    '',
    fence(d.diff, 'diff'),
    '',
    '### Validation',
    '',
    ...evidenceLines(d.evidence),
    '',
    '### Confidence',
    '',
    `${Math.round(d.confidence * 100)} % (${d.source === 'rule' ? 'the rule’s mechanical rewrite' : 'a model-written fix, validated like a rewrite'})`,
    '',
    '---',
    `Proposed by CodeGuardian for vulnerability \`${d.vulnerabilityId}\`. Merging this pull request marks the vulnerability fixed; closing it without merging keeps the vulnerability open and this fix is not proposed again for the same code.`,
  ].join('\n');
}

/** The fix commit's message. */
export function fixCommitMessage(d: Pick<FixDescription, 'type' | 'filePath' | 'ruleId' | 'vulnerabilityId'>): string {
  return `${fixTitle(d.type)}\n\nFix ${d.ruleId} in ${d.filePath}.\n\nCodeGuardian-Vulnerability: ${d.vulnerabilityId}\n`;
}
