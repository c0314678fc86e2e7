import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { createSecretAnalyzer, SECRET_PATTERNS, SECRET_RULE_IDS } from '../../../../shared/analysis/secrets/index.ts';
import type { FileContext, LanguageId, RawFinding } from '../../../../shared/analysis/types.ts';
import {
  BASE32,
  BASE64,
  HEX,
  badChecksumToken,
  checksummedToken,
  fillTemplate,
  jwt,
  pemBody,
  randomText,
  sampleSecrets,
} from './tokens.ts';

const analyzer = createSecretAnalyzer();
const fixtures = join(import.meta.dirname, '../../../fixtures/secrets');
const S = sampleSecrets();

/** `language` defaults to Python only when no argument is given; pass `undefined` for files without a parser. */
function scan(source: string, ...rest: [path?: string, language?: LanguageId | undefined]): RawFinding[] {
  const [path = 'src/app.py'] = rest;
  const language = rest.length >= 2 ? rest[1] : 'python';
  const file: FileContext = { path, language, source, root: undefined };
  return analyzer.analyze(file);
}

const ids = (findings: RawFinding[]): string[] => findings.map((f) => f.ruleId);

/** Every finding keeps the secret out of its snippet and message. */
function expectMasked(findings: RawFinding[], secrets: readonly string[]): void {
  for (const finding of findings) {
    for (const secret of secrets) {
      expect(finding.snippet).not.toContain(secret);
      expect(finding.message).not.toContain(secret);
    }
  }
}

describe('secret analyzer contract', () => {
  it('runs on every file and declares its rule ids', () => {
    expect(analyzer.languages).toBe('all');
    expect(new Set(SECRET_RULE_IDS).size).toBe(SECRET_RULE_IDS.length);
    for (const pattern of SECRET_PATTERNS) {
      expect(pattern.id).toMatch(/^secrets\.[a-z0-9-]+$/);
      expect(pattern.cwe).toContain('CWE-798');
      expect(pattern.regex.global).toBe(true);
      expect(pattern.anchors.length).toBeGreaterThan(0);
    }
  });

  it('fills every finding field with the masked secret and a precise location', () => {
    const source = `import os\n\nAPI = "x"\ntoken = "${S.GITHUB_TOKEN}"  # deploy bot\n`;
    const [finding, ...rest] = scan(source);
    expect(rest).toHaveLength(0);
    expect(finding).toMatchObject({
      ruleId: 'secrets.github-token',
      kind: 'secret',
      type: 'Hard-coded Secret',
      severity: 'critical',
      confidence: 'high',
      cwe: ['CWE-798'],
      owasp: 'A07:2021-Identification and Authentication Failures',
      location: { path: 'src/app.py', startLine: 4, startColumn: 10, endLine: 4, endColumn: 49 },
    });
    expect(finding?.snippet).toBe(`token = "ghp_${'*'.repeat(32)}${S.GITHUB_TOKEN?.slice(-4)}"  # deploy bot`);
    expect(finding?.message).toContain(`ghp_${'*'.repeat(32)}`);
    expectMasked([finding as RawFinding], [S.GITHUB_TOKEN as string, (S.GITHUB_TOKEN as string).slice(4, 30)]);
  });
});

describe('provider patterns: true positives and look-alikes', () => {
  const cases: Array<{ id: string; positive: string; negatives: string[] }> = [
    {
      id: 'secrets.github-token',
      positive: `t = "${S.GITHUB_TOKEN}"\nu = "${S.GITHUB_APP_TOKEN}"`,
      negatives: [`t = "${badChecksumToken('gh' + 'p_', 11)}"`, 't = "ghp_xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"', `t = "ghx_${randomText(36)}"`],
    },
    {
      id: 'secrets.github-fine-grained-token',
      positive: `t = "${S.GITHUB_PAT}"`,
      negatives: [`t = "github_pat_${'A'.repeat(22)}_${'B'.repeat(59)}"`],
    },
    {
      id: 'secrets.npm-token',
      positive: `//registry.npmjs.org/:_authToken=${S.NPM_TOKEN}`,
      negatives: [`//registry.npmjs.org/:_authToken=${badChecksumToken('np' + 'm_', 13)}`],
    },
    {
      id: 'secrets.gitlab-token',
      positive: `GITLAB = "${S.GITLAB_TOKEN}"`,
      negatives: ['GITLAB = "glpat-xxxxxxxxxxxxxxxxxxxx"', 'GITLAB = "glpat-0123456789abcdefghij"'],
    },
    {
      id: 'secrets.slack-token',
      positive: `slack = "${S.SLACK_TOKEN}"`,
      negatives: ['slack = "xoxb-your-bot-token-here"', 'slack = "xoxb-1234567890-1234567890-xxxxxxxxxxxxxxxxxxxxxxxx"'],
    },
    {
      id: 'secrets.slack-webhook',
      positive: `hook = "${S.SLACK_WEBHOOK}"`,
      negatives: ['hook = "https://hooks.slack.com/services/TXXXXXXXX/BXXXXXXXX/XXXXXXXXXXXXXXXXXXXXXXXX"'],
    },
    {
      id: 'secrets.stripe-live-key',
      positive: `stripe.api_key = "${S.STRIPE_KEY}"\nr = "${S.STRIPE_RESTRICTED_KEY}"`,
      negatives: [`stripe.api_key = "sk_${'test'}_${randomText(24)}"`, 'stripe.api_key = "sk_live_xxxxxxxxxxxxxxxxxxxxxxxx"'],
    },
    {
      id: 'secrets.aws-access-key-id',
      positive: `key_id = "${S.AWS_KEY_ID}"`,
      negatives: ['key_id = "AKIAIOSFODNN7EXAMPLE"', 'key_id = "AKIAI44QH8DHBEXAMPLE"', 'key_id = "AKIAAAAAAAAAAAAAAAAA"', `key_id = "AKIA${randomText(16, BASE32).toLowerCase()}"`],
    },
    {
      id: 'secrets.aws-secret-access-key',
      positive: `aws_secret_access_key = "${S.AWS_SECRET}"`,
      negatives: [
        // The documented example secret, a digest near the keyword, and a random value with no AWS context.
        'aws_secret_access_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY"',
        `aws_region = "eu-west-1"\ncommit = "${randomText(40, HEX)}"`,
        `checksum = "${S.AWS_SECRET}"`,
      ],
    },
    {
      id: 'secrets.google-api-key',
      positive: `MAPS = "${S.GOOGLE_API_KEY}"`,
      negatives: ['MAPS = "AIzaSyXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX"', `MAPS = "AIza${randomText(20)}"`],
    },
    {
      id: 'secrets.azure-storage-account-key',
      positive: `conn = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=${S.AZURE_ACCOUNT_KEY};EndpointSuffix=core.windows.net"`,
      negatives: ['conn = "DefaultEndpointsProtocol=https;AccountName=acct;AccountKey=<your-account-key>"', `conn = "AccountKey=${randomText(40, BASE64)}=="`],
    },
    {
      id: 'secrets.azure-sas-token',
      positive: `url = "https://acct.blob.core.windows.net/c?sv=2022-11-02&ss=b&srt=co&sp=rl&se=2030-01-01T00:00:00Z&sig=${S.AZURE_SAS_SIG}"`,
      negatives: [`url = "https://example.org/download?id=1&sig=${S.AZURE_SAS_SIG}"`, 'url = "https://acct.blob.core.windows.net/c?sv=2022-11-02&sig=<signature>"'],
    },
    {
      id: 'secrets.twilio-api-key',
      positive: `TWILIO_KEY = "${S.TWILIO_API_KEY}"`,
      negatives: ['TWILIO_KEY = "SKxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"', 'TWILIO_KEY = "SK00000000000000000000000000000000"'],
    },
    {
      id: 'secrets.twilio-auth-token',
      positive: `sid = "${S.TWILIO_ACCOUNT_SID}"\nauth = "${S.TWILIO_AUTH_TOKEN}"`,
      negatives: [`etag = "${S.TWILIO_AUTH_TOKEN}"`],
    },
    {
      id: 'secrets.sendgrid-api-key',
      positive: `SENDGRID = "${S.SENDGRID_KEY}"`,
      negatives: ['SENDGRID = "SG.xxxxxxxxxxxxxxxxxxxxxx.xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"'],
    },
    {
      id: 'secrets.pypi-token',
      positive: `password = "${S.PYPI_TOKEN}"`,
      negatives: ['prefix = "pypi-AgEIcHlwaS5vcmc"', `prefix = "pypi-AgEIcHlwaS5vcmc${'x'.repeat(60)}"`],
    },
    {
      id: 'secrets.private-key',
      positive: `KEY = """-----BEGIN RSA PRIVATE KEY-----\n${S.PEM_BODY}\n-----END RSA PRIVATE KEY-----"""`,
      negatives: ['KEY = """-----BEGIN RSA PRIVATE KEY-----\n...\n-----END RSA PRIVATE KEY-----"""', 'KEY = "-----BEGIN PUBLIC KEY-----"'],
    },
    {
      id: 'secrets.jwt',
      positive: `AUTH = "${S.JWT}"`,
      negatives: [
        `AUTH = "${jwt('none')}"`,
        // The jwt.io sample token.
        'AUTH = "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.eyJzdWIiOiIxMjM0NTY3ODkwIiwibmFtZSI6IkpvaG4gRG9lIiwiaWF0IjoxNTE2MjM5MDIyfQ.SflKxwRJSMeKKF2QT4fwpMeJf36POk6yJV_adQssw5c"',
      ],
    },
    {
      id: 'secrets.database-url',
      positive: [
        `a = "postgres://app:${S.DB_PASSWORD}@db.internal:5432/app"`,
        `b = "mysql://root:${S.DB_PASSWORD}@10.0.0.5/shop"`,
        `c = "mongodb+srv://svc:${S.DB_PASSWORD}@cluster0.mongo.net/app"`,
        `d = "redis://:${S.DB_PASSWORD}@cache:6379/0"`,
        `e = "amqp://worker:${S.DB_PASSWORD}@mq:5672/"`,
      ].join('\n'),
      negatives: [
        'a = "postgres://app:${DB_PASSWORD}@db:5432/app"',
        'b = "mysql://root:password@db/shop"',
        'c = "mongodb://db.internal:27017/app"',
        'd = "redis://:<password>@cache:6379"',
      ],
    },
  ];

  for (const { id, positive, negatives } of cases) {
    it(`${id}: reports the real credential, masked`, () => {
      const findings = scan(positive);
      expect(findings.length).toBeGreaterThan(0);
      expect(new Set(ids(findings))).toEqual(new Set([id]));
      const raw = [...positive.matchAll(/"([^"]{12,})"|=(\S{12,})/g)].map((m) => m[1] ?? m[2] ?? '');
      for (const finding of findings) expect(finding.snippet).toContain('****');
      expectMasked(findings, Object.values(S).filter((secret) => raw.some((r) => r.includes(secret))));
    });

    it(`${id}: ignores look-alikes`, () => {
      for (const negative of negatives) expect({ negative, found: ids(scan(negative)) }).toEqual({ negative, found: [] });
    });
  }

  it('reports one database URL per connection string and keeps local defaults at low confidence', () => {
    const findings = scan(`a = "postgres://app:${S.DB_PASSWORD}@db.internal:5432/app"\nb = "postgresql://dev:${S.DB_PASSWORD}@localhost:5432/dev"`);
    expect(findings.map((f) => [f.ruleId, f.confidence])).toEqual([
      ['secrets.database-url', 'high'],
      ['secrets.database-url', 'low'],
    ]);
  });

  it('rates encrypted private keys lower than plain ones', () => {
    const plain = scan(`-----BEGIN OPENSSH PRIVATE KEY-----\n${pemBody(8)}\n-----END OPENSSH PRIVATE KEY-----`, 'deploy/id_ed25519', undefined);
    const encrypted = scan(`-----BEGIN ENCRYPTED PRIVATE KEY-----\n${pemBody(9)}\n-----END ENCRYPTED PRIVATE KEY-----`, 'deploy/key.pem', undefined);
    expect(plain.map((f) => f.severity)).toEqual(['critical']);
    expect(encrypted.map((f) => f.severity)).toEqual(['medium']);
    expect(plain[0]?.location).toMatchObject({ startLine: 1, endLine: 14 });
    expect(plain[0]?.snippet).not.toContain(pemBody(8).slice(10, 40));
  });

  it('checksum-validates npm and GitHub tokens independently of their prefix', () => {
    expect(ids(scan(`x = "${checksummedToken('gh' + 'o_', 40)}"`))).toEqual(['secrets.github-token']);
    expect(ids(scan(`x = "${checksummedToken('gh' + 'r_', 41)}"`))).toEqual(['secrets.github-token']);
    expect(ids(scan(`x = "${badChecksumToken('gh' + 'u_', 42)}"`))).toEqual([]);
  });
});

describe('generic credentials', () => {
  const value = S.GENERIC_SECRET as string;
  const positives: Array<[string, string, LanguageId | undefined]> = [
    [`SECRET_KEY = "${value}"`, 'app/settings.py', 'python'],
    [`const apiKey = '${value}';`, 'src/client.js', 'javascript'],
    [`export const clientSecret: string = \`${value}\`;`, 'src/auth.ts', 'typescript'],
    [`  private static final String DB_PASSWORD = "Xk9#mQ2$vL7p";`, 'src/Main.java', 'java'],
    [`\tapiToken := "${value}"`, 'cmd/main.go', 'go'],
    [`{ "webhook_secret": "${value}" }`, 'config/prod.json', undefined],
    [`db:\n  password: Xk9#mQ2$vL7p\n`, 'deploy/values.yaml', undefined],
    [`API_TOKEN=${value}\n`, '.env', undefined],
    [`mail.smtp.password=Xk9#mQ2$vL7p\n`, 'src/main/resources/application.properties', undefined],
    [`ENV AUTH_TOKEN=${value}\n`, 'Dockerfile', undefined],
    [`headers = {"Authorization": "Bearer ${value}"}`, 'app/client.py', 'python'],
  ];
  for (const [source, path, language] of positives) {
    it(`reports a literal credential in ${path}`, () => {
      const findings = scan(source, path, language);
      expect(findings).toHaveLength(1);
      expect(findings[0]?.confidence).toBe('medium');
      expectMasked(findings, [value, 'Xk9#mQ2$vL7p']);
    });
  }

  const placeholders = [
    'changeme', 'CHANGE_ME_PLEASE', 'xxx', 'xxxxxxxxxxxxxxxx', '<your-key>', '${API_KEY}', '{{ api_key }}',
    'process.env.API_KEY', 'aaaaaaaaaaaaaaaaaaaa', 'example-key-9f8e7d', 'dummy_token_12345', 'test-secret-4711',
    '1234567890123456', 'abcdefghijklmnop', 'YOUR_API_KEY_HERE', 'sample-password-1',
  ];
  for (const placeholder of placeholders) {
    it(`ignores the placeholder "${placeholder}"`, () => {
      expect(scan(`api_key = "${placeholder}"`)).toEqual([]);
      expect(scan(`API_KEY=${placeholder}`, '.env', undefined)).toEqual([]);
    });
  }

  it('ignores values that are not credentials', () => {
    const sources = [
      'password_hash = "pbkdf2$Yq8kLm2pXzQw9eRt5yUi3oP1aSdF7gH"', // a hash is not the secret
      'max_tokens = "4096"',
      'token = get_token()',
      'secret_path = "/var/run/secrets/kubernetes.io/serviceaccount/token"',
      'token_url = "https://auth.internal/oauth/token"',
      'if password == "Xk9#mQ2$vL7p": pass', // a comparison, not a hard-coded value
      'password = "hunter"', // too short to judge
      'API_KEY_ENV = "PAYMENTS_API_KEY"', // the name of a variable
      `token = "${value}"`.replace(value, 'ab'.repeat(16)), // repeating pattern: low entropy
    ];
    for (const source of sources) expect({ source, found: ids(scan(source)) }).toEqual({ source, found: [] });
  });

  it('does not read unquoted values in source files, only in configuration', () => {
    expect(scan(`token = ${value}`, 'app/main.py', 'python')).toEqual([]);
    expect(ids(scan(`token = ${value}`, 'app/settings.ini', undefined))).toEqual(['secrets.generic-credential']);
  });

  it('applies the entropy threshold per character set', () => {
    // 24 hex characters of a random digest pass; the same length of one repeated word does not.
    expect(ids(scan(`auth_token = "${randomText(24, HEX, 60)}"`))).toEqual(['secrets.generic-credential']);
    expect(ids(scan('auth_token = "deadbeefdeadbeefdeadbeef"'))).toEqual([]);
    // Base64 needs at least 16 characters to be judged at all.
    expect(ids(scan(`auth_token = "${randomText(15, BASE64, 61)}"`))).toEqual([]);
    expect(ids(scan(`auth_token = "${randomText(24, BASE64, 62)}"`))).toEqual(['secrets.generic-credential']);
  });
});

describe('paths and file kinds', () => {
  const line = `aws = "${S.AWS_KEY_ID}"\nGITHUB = "${S.GITHUB_TOKEN}"\napi_key = "${S.GENERIC_SECRET}"`;

  it('keeps provider findings in tests and docs at lowered confidence and drops generic ones', () => {
    for (const path of ['test/helpers/setup.py', 'src/__tests__/client.test.ts', 'docs/guide.md', 'pkg/client_test.go', 'examples/app.py']) {
      const findings = scan(line, path);
      expect({ path, ids: ids(findings) }).toEqual({ path, ids: ['secrets.aws-access-key-id', 'secrets.github-token'] });
      expect(findings.map((f) => f.confidence)).toEqual(['low', 'medium']);
    }
  });

  it('reports everything at full confidence in production code', () => {
    expect(scan(line, 'src/settings.py').map((f) => [f.ruleId, f.confidence])).toEqual([
      ['secrets.aws-access-key-id', 'high'],
      ['secrets.github-token', 'high'],
      ['secrets.generic-credential', 'medium'],
    ]);
  });

  it('skips lock files, minified bundles and binary content', () => {
    expect(scan(line, 'package-lock.json', undefined)).toEqual([]);
    expect(scan(line, 'poetry.lock', undefined)).toEqual([]);
    expect(scan(line, 'dist/app.min.js', 'javascript')).toEqual([]);
    expect(scan(`var a=1;${line.replace(/\n/g, ';')};${'x=1;'.repeat(2000)}`, 'dist/bundle.js', 'javascript')).toEqual([]);
    expect(scan(`\0${line}`, 'assets/blob.bin', undefined)).toEqual([]);
  });
});

describe('fixture files', () => {
  const secrets = { ...S, PEM_ONE_LINE: (S.PEM_BODY as string).replace(/\n/g, '\\n') };
  const expected: Record<string, string[]> = {
    'app.env': ['secrets.github-token', 'secrets.npm-token', 'secrets.slack-token', 'secrets.stripe-live-key', 'secrets.generic-credential'],
    'settings.yml': ['secrets.database-url', 'secrets.slack-webhook', 'secrets.azure-storage-account-key', 'secrets.generic-credential'],
    'application.properties': ['secrets.generic-credential', 'secrets.sendgrid-api-key', 'secrets.google-api-key'],
    'settings.py': ['secrets.aws-access-key-id', 'secrets.aws-secret-access-key', 'secrets.twilio-auth-token', 'secrets.database-url'],
    Dockerfile: ['secrets.pypi-token'],
    'deploy.sh': ['secrets.gitlab-token', 'secrets.jwt'],
    'service-account.json': ['secrets.gcp-service-account-key'],
  };
  const languageOf = (name: string): LanguageId | undefined => (name.endsWith('.py') ? 'python' : undefined);

  it('covers every template', () => {
    expect(readdirSync(join(fixtures, 'templates')).sort()).toEqual(Object.keys(expected).sort());
  });

  for (const [name, rules] of Object.entries(expected)) {
    it(`finds exactly the planted secrets in ${name}, in order, masked`, () => {
      const source = fillTemplate(readFileSync(join(fixtures, 'templates', name), 'utf8'), secrets);
      const findings = scan(source, `config/${name}`, languageOf(name));
      expect(ids(findings)).toEqual(rules);
      expectMasked(findings, Object.values(secrets).filter((s) => source.includes(s)));
    });
  }

  it('finds nothing in files holding only placeholders, references and documented examples', () => {
    for (const name of readdirSync(join(fixtures, 'clean'))) {
      const source = readFileSync(join(fixtures, 'clean', name), 'utf8');
      const language = name.endsWith('.py') ? 'python' : name.endsWith('.ts') ? 'typescript' : undefined;
      expect({ name, found: scan(source, `app/${name}`, language).map((f) => `${f.ruleId}:${f.location.startLine}`) }).toEqual({ name, found: [] });
    }
  });
});

describe('through the scanner', () => {
  it('stores and fingerprints only masked secrets', async () => {
    const { scanFiles } = await import('../../../../shared/analysis/scanner.ts');
    const source = `GITHUB = "${S.GITHUB_TOKEN}"\nAWS_ACCESS_KEY_ID = "${S.AWS_KEY_ID}"\nAWS_SECRET_ACCESS_KEY = "${S.AWS_SECRET}"\n`;
    const result = scanFiles([{ path: 'app/settings.py', source }], { analyzers: [analyzer] });
    expect(result.findings.map((f) => f.ruleId)).toEqual([
      'secrets.github-token',
      'secrets.aws-access-key-id',
      'secrets.aws-secret-access-key',
    ]);
    const serialised = JSON.stringify(result);
    for (const secret of [S.GITHUB_TOKEN, S.AWS_KEY_ID, S.AWS_SECRET] as string[]) {
      expect(serialised).not.toContain(secret);
      expect(serialised).not.toContain(secret.slice(4, -4));
    }
    expect(new Set(result.findings.map((f) => f.fingerprint)).size).toBe(3);
  });
});
