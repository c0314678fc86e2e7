import { detectLanguage } from '../analysis/languages.ts';
import { scanFiles } from '../analysis/scanner.ts';
import type { Finding } from '../analysis/types.ts';
import type { AuthUser } from '../http/auth.ts';
import { AppError, BadRequestError } from '../http/errors.ts';
import { buildFixFor, platformModelFixer, type ModelFixer } from './build.ts';
import { unifiedDiff } from './diff.ts';
import { isSafeRepoPath } from './local-git.ts';
import { validateFix } from './validate.ts';

// The second seed's `POST /scan/fix`: a finding and the file's content in, a validated unified diff out. Nothing
// is stored and nothing is pushed; the same build and validation as the fix workflow.

export interface CompatFixInput {
  readonly finding: { readonly file: string; readonly line: number; readonly rule: string; readonly severity?: string; readonly message?: string };
  readonly fileContent: string;
  readonly context?: Readonly<Record<string, unknown>>;
}

const slug = (text: string) => text.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');

/** Whether `rule` (as a client names it) names this finding: its rule id (or the id's last part), type or CWE. */
export function namesFinding(rule: string, finding: Finding): boolean {
  const wanted = rule.trim().toLowerCase();
  const id = finding.ruleId.toLowerCase();
  if (wanted === id || id.endsWith(`.${wanted}`) || id.endsWith(`/${wanted}`)) return true;
  if (slug(wanted) === slug(finding.type)) return true;
  const cwe = /^(?:cwe-)?(\d{1,5})$/.exec(wanted);
  return cwe !== null && finding.cwe.some((c) => c.toLowerCase() === `cwe-${cwe[1]}`);
}

function unprocessable(code: string, message: string, details?: Record<string, unknown>): AppError {
  return new AppError(422, code, message, details);
}

/** `POST /scan/fix` → `{ fixed: true, patch, explanation, confidence, validation }`, or 422 with the reason. */
export async function compatScanFix(user: AuthUser, input: CompatFixInput, model: ModelFixer | null | undefined = undefined) {
  const path = input.finding.file.replace(/^\.\//, '');
  if (!isSafeRepoPath(path)) throw new BadRequestError('finding.file must be a relative path inside the repository', 'INVALID_PATH');
  const source = input.fileContent;
  const language = detectLanguage(path, source);
  if (!language) throw unprocessable('UNSUPPORTED_LANGUAGE', `No parser handles ${path}, so a fix cannot be validated`);

  const { findings } = scanFiles([{ path, source }]);
  const onLine = findings.filter((f) => f.location.startLine <= input.finding.line && input.finding.line <= f.location.endLine);
  const finding = onLine.find((f) => namesFinding(input.finding.rule, f));
  if (!finding) {
    throw unprocessable('FINDING_NOT_FOUND', `A scan of the given content reports no ${input.finding.rule} finding on line ${input.finding.line}`, {
      findingsOnLine: onLine.map((f) => ({ rule: f.ruleId, type: f.type })),
    });
  }
  const fixer = model === undefined ? platformModelFixer({ userId: user.userId }) : (model ?? undefined);
  const built = await buildFixFor(finding, source, fixer);
  if (!built.ok) throw unprocessable(built.code, built.reason);
  const result = validateFix({ path, language, before: source, after: built.after, finding });
  if (!result.ok) throw unprocessable('FIX_NOT_VALIDATED', `The fix did not pass validation: ${result.reason}`, { validationCode: result.code });
  return {
    fixed: true as const,
    patch: unifiedDiff(path, source, built.after),
    explanation: built.description,
    confidence: built.confidence,
    source: built.source,
    validation: { ...result.evidence },
  };
}
