/**
 * The provider table: one entry per kind of credential. Entries are data; the detector (detect.ts) runs them.
 * Order matters: when two entries match overlapping text, the earlier (more specific) one wins.
 */
import type { Severity } from '../types.ts';
import {
  hasCrc32Checksum,
  isAzureAccountKey,
  isAzureSasSignature,
  isPemBody,
  isSignedJwt,
} from './validators.ts';

export interface SecretContext {
  /** Must match somewhere in the file… */
  readonly regex: RegExp;
  /** …or, when set, within this many lines of the candidate (0 = the same line). */
  readonly lines?: number;
}

export interface SecretPattern {
  /** Rule id, `secrets.<kebab-name>`. */
  readonly id: string;
  readonly provider: string;
  /** What was found, e.g. `GitHub personal access token`. */
  readonly type: string;
  readonly severity: Severity;
  readonly cwe: readonly string[];
  /**
   * Literal strings, one of which must occur in the text before the regex runs (a cheap pre-filter): one with a
   * capital letter as written, a lower-case one in any case.
   */
  readonly anchors: readonly string[];
  /** A text without a match of this cannot hold the secret (e.g. the evidence `context` asks for): checked once. */
  readonly requires?: RegExp;
  /** Global regex; the named group `secret` is the credential (the whole match when absent). */
  readonly regex: RegExp;
  /** Evidence required near the candidate. */
  readonly context?: SecretContext;
  /** Provider-defined format or checksum check on the secret. */
  readonly validate?: (secret: string) => boolean;
  /** `validate` is a checksum: a pass proves the token is genuine, not a look-alike. */
  readonly checksum?: boolean;
  /** Require the random part (the secret minus `fixedPrefix` characters) to look random. */
  readonly entropy?: { readonly fixedPrefix: number; readonly minBits?: number };
  /** Severity override from the match, e.g. encrypted private keys. */
  readonly severityOf?: (groups: Readonly<Record<string, string | undefined>>) => Severity;
  readonly references?: readonly string[];
}

const CWE = ['CWE-798'] as const;

export const SECRET_PATTERNS: readonly SecretPattern[] = [
  {
    id: 'secrets.github-token',
    provider: 'GitHub',
    type: 'GitHub token',
    severity: 'critical',
    cwe: CWE,
    anchors: ['ghp_', 'gho_', 'ghu_', 'ghs_', 'ghr_'],
    regex: /\bgh[pousr]_[A-Za-z0-9]{36}\b/g,
    validate: hasCrc32Checksum,
    checksum: true,
    references: ['https://github.blog/2021-04-05-behind-githubs-new-authentication-token-formats/'],
  },
  {
    id: 'secrets.github-fine-grained-token',
    provider: 'GitHub',
    type: 'GitHub fine-grained personal access token',
    severity: 'critical',
    cwe: CWE,
    anchors: ['github_pat_'],
    regex: /\bgithub_pat_[A-Za-z0-9]{22}_[A-Za-z0-9]{59}\b/g,
    entropy: { fixedPrefix: 11 },
  },
  {
    id: 'secrets.npm-token',
    provider: 'npm',
    type: 'npm access token',
    severity: 'critical',
    cwe: CWE,
    anchors: ['npm_'],
    regex: /\bnpm_[A-Za-z0-9]{36}\b/g,
    validate: hasCrc32Checksum,
    checksum: true,
    references: ['https://github.blog/2021-09-23-announcing-npms-new-access-token-format/'],
  },
  {
    id: 'secrets.gitlab-token',
    provider: 'GitLab',
    type: 'GitLab access token',
    severity: 'critical',
    cwe: CWE,
    anchors: ['glpat-', 'gldt-', 'glrt-', 'glptt-', 'glsoat-', 'glcbt-'],
    regex: /\b(?:glpat|gldt|glrt|glptt|glsoat|glcbt)-[0-9A-Za-z_-]{20,}(?:\.[0-9a-z]{2}\.[0-9a-z]{9})?/g,
    entropy: { fixedPrefix: 6 },
  },
  {
    id: 'secrets.slack-token',
    provider: 'Slack',
    type: 'Slack token',
    severity: 'high',
    cwe: CWE,
    anchors: ['xoxb-', 'xoxa-', 'xoxp-', 'xoxr-', 'xoxs-'],
    regex: /\bxox[baprs]-[0-9]{1,13}(?:-[0-9]{6,13}){1,3}-[0-9A-Za-z]{16,64}\b/g,
    entropy: { fixedPrefix: 5 },
  },
  {
    id: 'secrets.slack-webhook',
    provider: 'Slack',
    type: 'Slack incoming webhook URL',
    severity: 'high',
    cwe: CWE,
    anchors: ['hooks.slack.com/'],
    regex: /https:\/\/hooks\.slack\.com\/(?:services|workflows)\/(?<secret>T[A-Z0-9]{6,}\/[A-Z0-9]{6,}\/[A-Za-z0-9]{20,})/g,
    entropy: { fixedPrefix: 0 },
  },
  {
    id: 'secrets.stripe-live-key',
    provider: 'Stripe',
    type: 'Stripe live secret key',
    severity: 'critical',
    cwe: CWE,
    anchors: ['sk_live_', 'rk_live_'],
    regex: /\b[sr]k_live_[0-9A-Za-z]{24,247}\b/g,
    entropy: { fixedPrefix: 8 },
  },
  {
    id: 'secrets.aws-access-key-id',
    provider: 'AWS',
    type: 'AWS access key ID',
    severity: 'high',
    cwe: CWE,
    anchors: ['AKIA', 'ASIA', 'ABIA', 'ACCA'],
    // The 16 characters after the prefix are base32.
    regex: /\b(?:AKIA|ASIA|ABIA|ACCA)[A-Z2-7]{16}\b/g,
    entropy: { fixedPrefix: 4, minBits: 2.8 },
  },
  {
    id: 'secrets.aws-secret-access-key',
    provider: 'AWS',
    type: 'AWS secret access key',
    severity: 'critical',
    cwe: CWE,
    anchors: ['aws', 'secretaccesskey', 'secret_access_key', 'akia', 'asia'],
    regex: /(?<![A-Za-z0-9/+=])[A-Za-z0-9/+]{40}(?![A-Za-z0-9/+=])/g,
    context: { regex: /aws.{0,24}secret|secret.{0,24}aws|secret_?access_?key|\b(?:AKIA|ASIA)[A-Z2-7]{16}\b/i, lines: 3 },
    // Mixed case rules out hex digests, which are 40 characters too.
    validate: (secret) => /[a-z]/.test(secret) && /[A-Z]/.test(secret) && /[0-9/+]/.test(secret),
    entropy: { fixedPrefix: 0, minBits: 4.2 },
  },
  {
    id: 'secrets.gcp-service-account-key',
    provider: 'Google Cloud',
    type: 'Google Cloud service account private key',
    severity: 'critical',
    cwe: CWE,
    anchors: ['"private_key"'],
    regex: /"private_key"\s*:\s*"(?<secret>-----BEGIN (?:RSA )?PRIVATE KEY-----[^"]*?-----END (?:RSA )?PRIVATE KEY-----(?:\\n)?)"/g,
    context: { regex: /"type"\s*:\s*"service_account"/ },
    validate: isPemBody,
  },
  {
    id: 'secrets.google-api-key',
    provider: 'Google',
    type: 'Google API key',
    severity: 'high',
    cwe: CWE,
    anchors: ['AIza'],
    regex: /\bAIza[0-9A-Za-z_-]{35}(?![0-9A-Za-z_-])/g,
    entropy: { fixedPrefix: 4 },
  },
  {
    id: 'secrets.azure-storage-account-key',
    provider: 'Azure',
    type: 'Azure storage account key',
    severity: 'critical',
    cwe: CWE,
    anchors: ['AccountKey='],
    regex: /\bAccountKey=(?<secret>[A-Za-z0-9+/]{86}==)/g,
    validate: isAzureAccountKey,
    entropy: { fixedPrefix: 0 },
  },
  {
    id: 'secrets.azure-sas-token',
    provider: 'Azure',
    type: 'Azure shared access signature',
    severity: 'high',
    cwe: CWE,
    anchors: ['sig='],
    regex: /(?<=[?&;"'\s]|^)sig=(?<secret>[A-Za-z0-9%+/]{40,}(?:=|%3D){0,2})/g,
    context: { regex: /\bsv=\d{4}-\d{2}-\d{2}\b/, lines: 0 },
    validate: isAzureSasSignature,
  },
  {
    id: 'secrets.twilio-api-key',
    provider: 'Twilio',
    type: 'Twilio API key',
    severity: 'high',
    cwe: CWE,
    anchors: ['SK'],
    regex: /\bSK[0-9a-fA-F]{32}\b/g,
    entropy: { fixedPrefix: 2 },
  },
  {
    id: 'secrets.twilio-auth-token',
    provider: 'Twilio',
    type: 'Twilio account auth token',
    severity: 'critical',
    cwe: CWE,
    anchors: ['AC'],
    // The account SID the context needs, without its word boundaries: any file with the evidence has this.
    requires: /AC[0-9a-f]{32}/,
    regex: /(?<![0-9A-Za-z])[0-9a-f]{32}(?![0-9A-Za-z])/g,
    // An auth token is only recognisable next to the account SID it belongs to.
    context: { regex: /\bAC[0-9a-f]{32}\b/, lines: 3 },
    entropy: { fixedPrefix: 0 },
  },
  {
    id: 'secrets.sendgrid-api-key',
    provider: 'SendGrid',
    type: 'SendGrid API key',
    severity: 'high',
    cwe: CWE,
    anchors: ['SG.'],
    regex: /\bSG\.[0-9A-Za-z_-]{22}\.[0-9A-Za-z_-]{43}(?![0-9A-Za-z_-])/g,
    entropy: { fixedPrefix: 3 },
  },
  {
    id: 'secrets.pypi-token',
    provider: 'PyPI',
    type: 'PyPI upload token',
    severity: 'critical',
    cwe: CWE,
    // The fixed macaroon header of tokens issued by pypi.org and test.pypi.org.
    anchors: ['pypi-AgEIcHlwaS5vcmc', 'pypi-AgENdGVzdC5weXBpLm9yZw'],
    regex: /\bpypi-AgE(?:IcHlwaS5vcmc|NdGVzdC5weXBpLm9yZw)[0-9A-Za-z_-]{50,}/g,
    entropy: { fixedPrefix: 24 },
  },
  {
    id: 'secrets.private-key',
    provider: 'Cryptographic key',
    type: 'Private key',
    severity: 'critical',
    cwe: ['CWE-798', 'CWE-321'],
    anchors: ['PRIVATE KEY'],
    regex:
      /-----BEGIN (?<kind>(?:RSA |EC |DSA |OPENSSH |ENCRYPTED |PGP )?)PRIVATE KEY(?: BLOCK)?-----(?<secret>[\s\S]{1,16384}?)-----END \k<kind>PRIVATE KEY(?: BLOCK)?-----/g,
    validate: isPemBody,
    severityOf: (groups) => (groups.kind === 'ENCRYPTED ' ? 'medium' : 'critical'),
  },
  {
    id: 'secrets.jwt',
    provider: 'JSON Web Token',
    type: 'Signed JSON Web Token',
    severity: 'medium',
    cwe: CWE,
    anchors: ['eyJ'],
    regex: /\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{16,}/g,
    validate: isSignedJwt,
  },
  {
    id: 'secrets.database-url',
    provider: 'Database',
    type: 'Database connection URL with a password',
    severity: 'high',
    cwe: CWE,
    anchors: ['://'],
    regex:
      /\b(?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|rediss?|amqps?|mssql|sqlserver)(?:\+[a-z0-9]+)?:\/\/[^:/?#\s@"'`]*:(?<secret>[^@/?#\s"'`]+)@(?<host>[^\s"'`/?#:]+)/gi,
  },
];

/** Generic hard-coded credentials: a secret-like name assigned a random-looking literal. */
export const GENERIC_ASSIGNMENT: Omit<SecretPattern, 'anchors' | 'regex'> = {
  id: 'secrets.generic-credential',
  provider: 'Generic',
  type: 'Hard-coded credential',
  severity: 'high',
  cwe: CWE,
};

/** Hard-coded HTTP authorization values. */
export const GENERIC_AUTHORIZATION: Omit<SecretPattern, 'anchors' | 'regex'> = {
  id: 'secrets.authorization-header',
  provider: 'Generic',
  type: 'Hard-coded HTTP authorization credential',
  severity: 'high',
  cwe: CWE,
};

/** Every rule id this analyzer can report. */
export const SECRET_RULE_IDS: readonly string[] = [
  ...SECRET_PATTERNS.map((p) => p.id),
  GENERIC_ASSIGNMENT.id,
  GENERIC_AUTHORIZATION.id,
];
