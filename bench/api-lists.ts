/**
 * List endpoints through the local gateway (JWT check, revocation lookup, rate-limit window, validation, the
 * handler's queries and mapping, HTTP) against a bare DynamoDB Query of the same page, in the same run against
 * the same DynamoDB Local: 10,000 vulnerabilities of one user, 100 repositories and 1,000 activity events.
 */
import { randomUUID } from 'node:crypto';
import { Agent, request } from 'node:http';
import { join } from 'node:path';
import { performance } from 'node:perf_hooks';
import { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import { DynamoDBDocumentClient, QueryCommand, UpdateCommand, type QueryCommandInput } from '@aws-sdk/lib-dynamodb';
import type { Finding, Severity } from '../shared/analysis/types.ts';
import { LOCAL_BUCKET, LOCAL_REGION, LOCAL_TABLE } from '../lib/local/config.ts';
import { freePort, startEmulators } from '../lib/local/emulators.ts';
import { LOCAL_CREDENTIALS, provision } from '../lib/local/provision.ts';
import { startServices } from '../lib/local/stack.ts';
import { withoutSdkLogger } from '../shared/runtime/sdk-logger.ts';
import type { BenchContext, BenchModule } from './lib/types.ts';

const ROOT = join(import.meta.dirname, '..');
const NAME = 'api-lists';
const SEVERITIES: readonly Severity[] = ['critical', 'high', 'medium', 'low', 'info'];

function percentile(samples: readonly number[], p: number): number {
  const sorted = [...samples].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)] ?? Number.NaN;
}

function finding(i: number): Finding {
  return {
    ruleId: `bench.rule-${i % 40}`,
    kind: 'rule',
    type: i % 3 === 0 ? 'Cross-Site Scripting' : 'SQL Injection',
    message: 'Untrusted input reaches a sensitive sink',
    severity: SEVERITIES[i % SEVERITIES.length] as Severity,
    confidence: 'high',
    cwe: [i % 3 === 0 ? 'CWE-79' : 'CWE-89'],
    owasp: 'A03:2021-Injection',
    cvss: 7.5,
    location: { path: `src/module-${i % 200}/file-${i}.js`, startLine: 10 + (i % 300), startColumn: 1, endLine: 10 + (i % 300), endColumn: 60 },
    snippet: `db.query("SELECT * FROM t WHERE id=" + req.query.id${i})`,
    fingerprint: `bench-${i}`,
  };
}

/**
 * GET through node:http with a keep-alive agent, the HTTP stack the SDK's own handler uses for the bare Query,
 * so that both sides pay the same client costs.
 */
function getJson(url: string, agent: Agent, token: string): Promise<{ status: number; body: Record<string, unknown> & { nextCursor: string | null } }> {
  return new Promise((resolve, reject) => {
    const req = request(url, { agent, headers: { authorization: `Bearer ${token}` } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (chunk: Buffer) => chunks.push(chunk));
      res.on('error', reject);
      res.on('end', () => {
        try {
          resolve({ status: res.statusCode ?? 0, body: JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown> & { nextCursor: string | null } });
        } catch (error) {
          reject(error as Error);
        }
      });
    });
    req.on('error', reject);
    req.end();
  });
}

interface Case {
  readonly label: string;
  /** Path and query of the first page; later pages follow `nextCursor`. */
  readonly path: string;
  readonly items: string;
  /** The Query the handler's page amounts to, with the same projection. */
  readonly query: Omit<QueryCommandInput, 'TableName' | 'ExclusiveStartKey'>;
}

export default {
  name: NAME,
  description: 'List endpoints (10,000 vulnerabilities of one user, repositories, activity) through the local gateway vs a bare DynamoDB Query',
  async run(context: BenchContext): Promise<void> {
    const emulators = await startEmulators({
      dataDir: context.workDir,
      dynamodbInMemory: true,
      ports: { dynamodb: await freePort(), s3: await freePort(), sqs: await freePort() },
    });
    process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
    // The measurement makes thousands of requests as one user; the windows are still read and written per request.
    process.env.RATE_LIMIT_USER = '10000000';
    process.env.RATE_LIMIT_PUBLIC = '10000000';
    const provisioned = await provision(emulators.endpoints, { region: LOCAL_REGION, tableName: LOCAL_TABLE, bucketName: LOCAL_BUCKET });
    const services = await startServices({
      endpoints: emulators.endpoints,
      provisioned,
      region: LOCAL_REGION,
      dataDir: context.workDir,
      root: ROOT,
      apiPort: 0,
      sfnPort: 0,
      retryDelaySeconds: 1,
      pollWaitSeconds: 1,
      background: false,
    });
    const agent = new Agent({ keepAlive: true });
    // Configured like the handlers' client (shared/runtime/clients.ts), so that only the API's own work differs.
    const bare = DynamoDBDocumentClient.from(withoutSdkLogger(new DynamoDBClient({ region: LOCAL_REGION, endpoint: emulators.endpoints.dynamodb, credentials: LOCAL_CREDENTIALS })));
    try {
      // Loaded after the services set the environment the data layer reads.
      const { createRepository, emptyStatusCounts } = await import('../shared/db/repositories.ts');
      const { saveFindings } = await import('../shared/db/vulnerabilities.ts');
      const { recordActivity } = await import('../shared/db/activity.ts');
      const { signAccessToken } = await import('../shared/http/auth.ts');

      const userId = randomUUID();
      const token = await signAccessToken({ userId, email: 'bench@example.com', subscription: 'pro' }, { expiresIn: '2h' });
      const repoCount = 100;
      const vulnerabilities = 10_000;
      const started = performance.now();
      const repoIds: string[] = [];
      const repoWrites: Promise<void>[] = [];
      for (let r = 0; r < repoCount; r++) {
        const now = new Date(Date.now() - (repoCount - r) * 1000).toISOString();
        const id = randomUUID();
        repoIds.push(id);
        repoWrites.push(createRepository({
          id, userId, provider: 'github', name: `repo-${r}`, fullName: `bench/repo-${r}`, owner: 'bench', private: false, language: 'JavaScript',
          defaultBranch: 'main', githubRepoId: 1_000_000 + r, installationId: 1, autoScanEnabled: true, autoFixEnabled: false, scanBranches: ['main'],
          severityThreshold: 'low', totalVulnerabilities: 0, criticalCount: 0, highCount: 0, mediumCount: 0, lowCount: 0, infoCount: 0, securityScore: 100,
          counts: emptyStatusCounts(), staleHighOrCritical: 0, countersUpdatedAt: now, scanStatus: 'never', lastScanAt: null, lastScanId: null, createdAt: now, updatedAt: now,
        }));
      }
      await Promise.all(repoWrites);
      // The vulnerabilities go to 20 repositories, 500 each, the way scans persist them.
      const perRepo = vulnerabilities / 20;
      for (let r = 0; r < 20; r++) {
        const findings = Array.from({ length: perRepo }, (_, i) => finding(r * perRepo + i));
        await saveFindings(repoIds[r] as string, randomUUID(), findings);
      }
      for (let e = 0; e < 1000; e += 50) {
        await Promise.all(Array.from({ length: 50 }, (_, k) => recordActivity(userId, { type: 'scan_queued', message: `event ${e + k}`, repositoryId: repoIds[(e + k) % repoCount] })));
      }
      context.log(`seeded ${repoCount} repositories, ${vulnerabilities} vulnerabilities, 1000 events in ${((performance.now() - started) / 1000).toFixed(1)} s`);

      const { VULNERABILITY_LIST_ATTRIBUTES } = await import('../shared/db/vulnerabilities.ts');
      const { REPOSITORY_LIST_ATTRIBUTES } = await import('../shared/db/repositories.ts');
      const { ACTIVITY_LIST_ATTRIBUTES } = await import('../shared/db/activity.ts');
      /** The projection the handler's page reads: the listed attributes and the keys its cursor is made of. */
      const projected = (attributes: readonly string[], index?: string) => {
        const names = [...new Set([...(index ? ['pk', 'sk', `${index}pk`, `${index}sk`] : ['pk', 'sk']), ...attributes])];
        return { ProjectionExpression: names.map((_, i) => `#p${i}`).join(', '), ExpressionAttributeNames: Object.fromEntries(names.map((name, i) => [`#p${i}`, name])) };
      };
      const base = `http://127.0.0.1:${services.apiPort}`;
      // The largest page the API serves: the handler's fixed costs (token, revocation, rate window) weigh least.
      const limit = 100;
      const cases: Case[] = [
        {
          label: 'vulnerabilities', path: `/api/vulnerabilities?limit=${limit}`, items: 'vulnerabilities',
          query: { IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': `USER#${userId}#VULNS` }, ScanIndexForward: false, Limit: limit, ...projected(VULNERABILITY_LIST_ATTRIBUTES, 'gsi1') },
        },
        {
          label: 'vulnerabilities?severity=high', path: `/api/vulnerabilities?severity=high&limit=${limit}`, items: 'vulnerabilities',
          query: { IndexName: 'gsi3', KeyConditionExpression: 'gsi3pk = :pk', ExpressionAttributeValues: { ':pk': `USER#${userId}#VULNS#high` }, ScanIndexForward: false, Limit: limit, ...projected(VULNERABILITY_LIST_ATTRIBUTES, 'gsi3') },
        },
        {
          label: 'repositories', path: `/api/repositories?limit=${limit}`, items: 'repositories',
          query: { IndexName: 'gsi1', KeyConditionExpression: 'gsi1pk = :pk', ExpressionAttributeValues: { ':pk': `USER#${userId}#REPOS` }, ScanIndexForward: false, Limit: limit, ...projected(REPOSITORY_LIST_ATTRIBUTES, 'gsi1') },
        },
        {
          label: 'activity (pages of 50)', path: '/api/dashboard/activity?limit=50', items: 'events',
          query: { KeyConditionExpression: 'pk = :pk', ExpressionAttributeValues: { ':pk': `USER#${userId}#ACTIVITY` }, ScanIndexForward: false, Limit: 50, ...projected(ACTIVITY_LIST_ATTRIBUTES) },
        },
      ];

      // Enough pages that each p95 rests on a hundred samples: with fewer, one stall of the emulator moves it.
      const rounds = context.quick ? 40 : 2000;
      // What an authenticated request writes when its process has not written the user's access item in the last
      // second: one Update that counts it in the user's window and returns the revoked tokens. Measured alone.
      const fixed: number[] = [];
      for (let i = 0; i < rounds; i++) {
        const t0 = performance.now();
        await bare.send(new UpdateCommand({ TableName: LOCAL_TABLE, Key: { pk: `BENCH#${userId}`, sk: 'ACCESS' }, UpdateExpression: 'ADD #c :one', ExpressionAttributeNames: { '#c': 'count' }, ExpressionAttributeValues: { ':one': 1 }, ReturnValues: 'ALL_NEW' }));
        fixed.push(performance.now() - t0);
      }
      context.log(`per-request Update alone: p50 ${percentile(fixed, 50).toFixed(1)} ms p95 ${percentile(fixed, 95).toFixed(1)} ms`);
      context.report({ module: NAME, metric: 'per-request Update (revocation, rate limit) p50', value: percentile(fixed, 50), unit: 'ms' });
      for (const c of cases) {
        const api: number[] = [];
        const db: number[] = [];
        let pageItems = 0;
        // Alternate the two, walking the pages by cursor, so drift in the emulator affects both alike.
        let cursor: string | null = null;
        let startKey: Record<string, unknown> | undefined;
        for (let i = -20; i < rounds; i++) {
          const t0 = performance.now();
          const { status, body } = await getJson(`${base}${c.path}${cursor ? `&cursor=${cursor}` : ''}`, agent, token);
          const t1 = performance.now();
          if (status !== 200) throw new Error(`${c.path} answered ${status}: ${JSON.stringify(body)}`);
          const answer = await bare.send(new QueryCommand({ TableName: LOCAL_TABLE, ...c.query, ExclusiveStartKey: startKey }));
          const t2 = performance.now();
          if (i >= 0) {
            api.push(t1 - t0);
            db.push(t2 - t1);
            pageItems = Math.max(pageItems, (body[c.items] as unknown[]).length);
          }
          cursor = body.nextCursor;
          startKey = answer.LastEvaluatedKey;
          if (!cursor || !startKey) {
            cursor = null;
            startKey = undefined;
          }
        }
        const ratio = percentile(api, 95) / percentile(db, 95);
        context.log(
          `${c.label}: API p50 ${percentile(api, 50).toFixed(1)} ms p95 ${percentile(api, 95).toFixed(1)} ms; Query p50 ${percentile(db, 50).toFixed(1)} ms p95 ${percentile(db, 95).toFixed(1)} ms (${rounds} pages of ${pageItems})`,
        );
        context.report({ module: NAME, metric: `${c.label}: API p50`, value: percentile(api, 50), unit: 'ms' });
        context.report({ module: NAME, metric: `${c.label}: API p95`, value: percentile(api, 95), unit: 'ms' });
        context.report({ module: NAME, metric: `${c.label}: bare Query p95`, value: percentile(db, 95), unit: 'ms' });
        context.report({ module: NAME, metric: `${c.label}: API p95 / Query p95`, value: ratio, unit: 'x', target: { max: 2 }, note: `${pageItems} items per page` });
      }
    } finally {
      agent.destroy();
      bare.destroy();
      await services.stop();
      await emulators.stop();
    }
  },
} satisfies BenchModule;
