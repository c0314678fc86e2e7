import { createHash, createPublicKey, generateKeyPairSync, randomBytes, type KeyObject } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gzipSync } from 'node:zlib';
import { jwtVerify } from 'jose';
import { pack } from 'tar-stream';

/**
 * A local GitHub for tests, speaking the REST shapes of GitHub Enterprise Server (API under `/api/v3`): the App's
 * JWT and installation tokens, repositories with real commit history kept in memory, refs, contents, compare and
 * tarballs. Areas with more endpoints (checks, git data, pulls) register them with {@link FakeGitHub.on}.
 */

export interface FakeRequest {
  readonly method: string;
  /** Path under `/api/v3`, URL-decoded, without the query. */
  readonly path: string;
  readonly query: URLSearchParams;
  readonly headers: IncomingHttpHeaders;
  /** Parsed JSON body, when there is one. */
  readonly body: unknown;
  readonly raw: Buffer;
  readonly match: RegExpExecArray;
  /** The installation whose token authenticated the request, if any. */
  readonly installationId?: number;
  /** Whether the request carried a valid App JWT. */
  readonly asApp: boolean;
}

export interface FakeResponse {
  readonly status: number;
  readonly body?: unknown;
  readonly headers?: Readonly<Record<string, string>>;
  /** Raw bytes instead of a JSON body. */
  readonly raw?: Buffer;
}

export type FakeHandler = (req: FakeRequest) => FakeResponse | Promise<FakeResponse>;

export interface FakeCommit {
  readonly sha: string;
  readonly parents: readonly string[];
  readonly message: string;
  readonly tree: ReadonlyMap<string, Buffer>;
  readonly date: string;
}

export type FileChanges = Readonly<Record<string, string | Buffer | null>>;

export class FakeRepo {
  readonly refs = new Map<string, string>();
  readonly commits = new Map<string, FakeCommit>();

  constructor(
    readonly id: number,
    readonly owner: string,
    readonly name: string,
    readonly defaultBranch: string,
    readonly installationId: number,
    readonly isPrivate: boolean,
    readonly language: string | null,
  ) {}

  get fullName(): string {
    return `${this.owner}/${this.name}`;
  }

  headSha(branch = this.defaultBranch): string {
    const sha = this.refs.get(`heads/${branch}`);
    if (!sha) throw new Error(`${this.fullName} has no branch ${branch}`);
    return sha;
  }

  /** A commit sha from a sha (or its prefix), a branch, `heads/<b>`, `refs/heads/<b>` or a tag ref. */
  resolve(ref: string): FakeCommit | undefined {
    const name = ref.replace(/^refs\//, '');
    const sha = this.refs.get(name) ?? this.refs.get(`heads/${name}`) ?? this.refs.get(`tags/${name}`);
    if (sha) return this.commits.get(sha);
    if (/^[0-9a-f]{7,40}$/.test(ref)) {
      for (const [candidate, commit] of this.commits) if (candidate.startsWith(ref)) return commit;
    }
    return undefined;
  }

  /** Adds a commit on `branch` (created from the default branch's head when new); `null` deletes a file. */
  commit(changes: FileChanges, options: { branch?: string; message?: string } = {}): string {
    const branch = options.branch ?? this.defaultBranch;
    const parentSha = this.refs.get(`heads/${branch}`) ?? this.refs.get(`heads/${this.defaultBranch}`);
    const tree = new Map(parentSha ? this.commits.get(parentSha)?.tree : undefined);
    for (const [path, content] of Object.entries(changes)) {
      if (content === null) tree.delete(path);
      else tree.set(path, Buffer.isBuffer(content) ? content : Buffer.from(content, 'utf8'));
    }
    return this.addCommit(tree, parentSha ? [parentSha] : [], options.message ?? 'Update files', branch);
  }

  /** Stores a commit with the given tree and moves `branch` to it (used by the Git Data endpoints too). */
  addCommit(tree: ReadonlyMap<string, Buffer>, parents: readonly string[], message: string, branch?: string): string {
    const hash = createHash('sha1').update(`${parents.join(',')}\n${message}\n${this.commits.size}\n`);
    for (const [path, content] of [...tree].sort(([a], [b]) => a.localeCompare(b))) hash.update(path).update(content);
    const sha = hash.digest('hex');
    this.commits.set(sha, { sha, parents, message, tree: new Map(tree), date: new Date().toISOString() });
    if (branch) this.refs.set(`heads/${branch}`, sha);
    return sha;
  }
}

export interface AddRepositoryOptions {
  readonly owner: string;
  readonly name: string;
  readonly installationId?: number;
  readonly defaultBranch?: string;
  readonly private?: boolean;
  readonly language?: string | null;
  readonly files: FileChanges;
}

interface Failure {
  readonly method: string;
  readonly pattern: RegExp;
  readonly status: number;
  remaining: number;
  readonly headers?: Readonly<Record<string, string>>;
}

const DOCS = 'https://docs.github.com/rest';
const notFound: FakeResponse = { status: 404, body: { message: 'Not Found', documentation_url: DOCS } };
const badCredentials: FakeResponse = { status: 401, body: { message: 'Bad credentials', documentation_url: DOCS } };

export class FakeGitHub {
  static readonly appId = '424242';
  static readonly appSlug = 'codeguardian-local';

  readonly webhookSecret = `whsec-${randomBytes(12).toString('hex')}`;
  readonly privateKeyPem: string;
  readonly requests: { method: string; path: string; body: unknown }[] = [];
  /** Serves these bytes as the tarball of `repo` at `sha` instead of building one (hostile-archive tests). */
  tarballOverride?: (repo: FakeRepo, sha: string) => Buffer | undefined;

  private readonly publicKey: KeyObject;
  private readonly repos = new Map<string, FakeRepo>();
  private readonly tokens = new Map<string, { installationId: number; expiresAt: number }>();
  private readonly routes: { method: string; pattern: RegExp; handler: FakeHandler }[] = [];
  private readonly failures: Failure[] = [];
  private nextRepoId = 700_000_000;
  private baseUrlValue = '';

  private constructor(private readonly server: Server) {
    const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
    this.privateKeyPem = privateKey.export({ type: 'pkcs1', format: 'pem' }).toString();
    this.publicKey = createPublicKey(publicKey.export({ type: 'spki', format: 'pem' }));
  }

  static async start(): Promise<FakeGitHub> {
    const holder: { fake?: FakeGitHub } = {};
    const server = createServer((req, res) => {
      holder.fake?.handle(req, res).catch((error: unknown) => {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ message: `fake GitHub error: ${(error as Error).message}` }));
      });
    });
    const fake = new FakeGitHub(server);
    holder.fake = fake;
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    fake.baseUrlValue = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
    return fake;
  }

  get baseUrl(): string {
    return this.baseUrlValue;
  }

  get apiUrl(): string {
    return `${this.baseUrlValue}/api/v3`;
  }

  /** The environment that points the platform's GitHub App at this server. */
  env(): Record<string, string> {
    return {
      GITHUB_URL: this.baseUrl,
      GITHUB_API_URL: this.apiUrl,
      GITHUB_APP_ID: FakeGitHub.appId,
      GITHUB_APP_PRIVATE_KEY: this.privateKeyPem,
      GITHUB_WEBHOOK_SECRET: this.webhookSecret,
      GITHUB_APP_SLUG: FakeGitHub.appSlug,
    };
  }

  addRepository(options: AddRepositoryOptions): FakeRepo {
    const repo = new FakeRepo(
      this.nextRepoId++,
      options.owner,
      options.name,
      options.defaultBranch ?? 'main',
      options.installationId ?? 1000 + this.repos.size,
      options.private ?? true,
      options.language ?? null,
    );
    repo.commit(options.files, { message: 'Initial commit' });
    this.repos.set(repo.fullName.toLowerCase(), repo);
    return repo;
  }

  commit(fullName: string, changes: { files: FileChanges; branch?: string; message?: string }): string {
    return this.repo(fullName).commit(changes.files, changes);
  }

  repo(fullName: string): FakeRepo {
    const repo = this.repos.get(fullName.toLowerCase());
    if (!repo) throw new Error(`The fake GitHub has no repository ${fullName}`);
    return repo;
  }

  repositories(): FakeRepo[] {
    return [...this.repos.values()];
  }

  /** Registers an endpoint, matched against the path under `/api/v3` before the built-in ones. */
  on(method: string, pattern: RegExp, handler: FakeHandler): void {
    this.routes.unshift({ method: method.toUpperCase(), pattern, handler });
  }

  /** The next `times` matching requests answer `status` (5xx, or 403 with rate-limit headers). */
  failNext(method: string, pattern: RegExp, status: number, times = 1, headers?: Record<string, string>): void {
    this.failures.push({ method: method.toUpperCase(), pattern, status, remaining: times, headers });
  }

  /** Requests whose method and path match, for assertions. */
  requestsTo(method: string, pattern: RegExp): { method: string; path: string; body: unknown }[] {
    return this.requests.filter((r) => r.method === method.toUpperCase() && pattern.test(r.path));
  }

  close(): Promise<void> {
    this.server.closeAllConnections();
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  // ------------------------------------------------------------------------------------------ REST shapes

  repositoryJson(repo: FakeRepo): Record<string, unknown> {
    const html = `${this.baseUrl}/${repo.fullName}`;
    return {
      id: repo.id,
      node_id: Buffer.from(`010:Repository${repo.id}`).toString('base64'),
      name: repo.name,
      full_name: repo.fullName,
      private: repo.isPrivate,
      owner: this.accountJson(repo.owner),
      html_url: html,
      description: null,
      fork: false,
      url: `${this.apiUrl}/repos/${repo.fullName}`,
      clone_url: `${html}.git`,
      language: repo.language,
      default_branch: repo.defaultBranch,
      visibility: repo.isPrivate ? 'private' : 'public',
      archived: false,
      disabled: false,
      pushed_at: new Date().toISOString(),
      created_at: '2024-01-01T00:00:00Z',
      updated_at: new Date().toISOString(),
      permissions: { admin: false, maintain: false, push: true, triage: true, pull: true },
    };
  }

  accountJson(login: string): Record<string, unknown> {
    const id = Number.parseInt(createHash('sha1').update(login).digest('hex').slice(0, 7), 16);
    return {
      login,
      id,
      node_id: Buffer.from(`04:User${id}`).toString('base64'),
      avatar_url: `https://avatars.githubusercontent.com/u/${id}?v=4`,
      url: `${this.apiUrl}/users/${login}`,
      html_url: `${this.baseUrl}/${login}`,
      type: 'Organization',
      site_admin: false,
    };
  }

  installationJson(installationId: number): Record<string, unknown> | undefined {
    const repo = this.repositories().find((r) => r.installationId === installationId);
    if (!repo) return undefined;
    return {
      id: installationId,
      account: this.accountJson(repo.owner),
      repository_selection: 'selected',
      access_tokens_url: `${this.apiUrl}/app/installations/${installationId}/access_tokens`,
      repositories_url: `${this.apiUrl}/installation/repositories`,
      html_url: `${this.baseUrl}/organizations/${repo.owner}/settings/installations/${installationId}`,
      app_id: Number(FakeGitHub.appId),
      app_slug: FakeGitHub.appSlug,
      target_id: (this.accountJson(repo.owner) as { id: number }).id,
      target_type: 'Organization',
      permissions: { checks: 'write', contents: 'write', metadata: 'read', pull_requests: 'write' },
      events: ['push', 'pull_request', 'installation_repositories'],
      created_at: '2024-01-01T00:00:00Z',
      updated_at: '2024-01-01T00:00:00Z',
      suspended_at: null,
    };
  }

  commitJson(repo: FakeRepo, commit: FakeCommit): Record<string, unknown> {
    const url = `${this.apiUrl}/repos/${repo.fullName}/commits/${commit.sha}`;
    const person = { name: 'Octo Cat', email: 'octocat@example.com', date: commit.date };
    return {
      sha: commit.sha,
      node_id: Buffer.from(`06:Commit${commit.sha}`).toString('base64'),
      url,
      html_url: `${this.baseUrl}/${repo.fullName}/commit/${commit.sha}`,
      commit: { message: commit.message, author: person, committer: person, tree: { sha: treeSha(commit), url: `${this.apiUrl}/repos/${repo.fullName}/git/trees/${treeSha(commit)}` } },
      parents: commit.parents.map((sha) => ({ sha, url: `${this.apiUrl}/repos/${repo.fullName}/commits/${sha}` })),
      files: changedFiles(commit.parents[0] ? repo.commits.get(commit.parents[0]) : undefined, commit),
    };
  }

  refJson(repo: FakeRepo, name: string, sha: string): Record<string, unknown> {
    return {
      ref: `refs/${name}`,
      node_id: Buffer.from(`03:Ref${name}`).toString('base64'),
      url: `${this.apiUrl}/repos/${repo.fullName}/git/refs/${name}`,
      object: { sha, type: 'commit', url: `${this.apiUrl}/repos/${repo.fullName}/git/commits/${sha}` },
    };
  }

  /** The gzip tar GitHub serves for a commit: one top folder `<owner>-<repo>-<sha7>/`. */
  async tarball(repo: FakeRepo, commit: FakeCommit): Promise<Buffer> {
    const override = this.tarballOverride?.(repo, commit.sha);
    if (override) return override;
    const top = `${repo.owner}-${repo.name}-${commit.sha.slice(0, 7)}/`;
    const archive = pack();
    const chunks: Buffer[] = [];
    archive.on('data', (chunk: unknown) => chunks.push(chunk as Buffer));
    const done = new Promise<void>((resolve, reject) => {
      archive.on('end', resolve);
      archive.on('error', reject);
    });
    archive.entry({ name: top, type: 'directory', mode: 0o755 });
    for (const [path, content] of [...commit.tree].sort(([a], [b]) => a.localeCompare(b))) {
      archive.entry({ name: `${top}${path}`, mode: 0o644, size: content.length }, content);
    }
    archive.finalize();
    await done;
    return gzipSync(Buffer.concat(chunks));
  }

  // ------------------------------------------------------------------------------------------ dispatch

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    const raw = Buffer.concat(chunks);
    const url = new URL(req.url ?? '/', this.baseUrl);
    const method = (req.method ?? 'GET').toUpperCase();
    const body = parseBody(raw);
    let path: string;
    try {
      path = decodeURIComponent(url.pathname);
    } catch {
      return send(res, { status: 400, body: { message: 'Bad path' } });
    }

    const codeload = /^\/_codeload\/([^/]+)\/([^/]+)\/legacy\.tar\.gz\/([0-9a-f]{40})$/.exec(path);
    if (codeload && method === 'GET') {
      this.requests.push({ method, path, body: undefined });
      const repo = this.repos.get(`${codeload[1]}/${codeload[2]}`.toLowerCase());
      const commit = repo?.commits.get(codeload[3] as string);
      if (!repo || !commit) return send(res, notFound);
      const archive = await this.tarball(repo, commit);
      return send(res, { status: 200, raw: archive, headers: { 'content-type': 'application/x-gzip', 'content-disposition': `attachment; filename=${repo.owner}-${repo.name}-${commit.sha.slice(0, 7)}.tar.gz` } });
    }
    if (!path.startsWith('/api/v3/') && path !== '/api/v3') return send(res, notFound);
    path = path.slice('/api/v3'.length) || '/';
    this.requests.push({ method, path, body });

    const failure = this.failures.find((f) => f.remaining > 0 && f.method === method && f.pattern.test(path));
    if (failure) {
      failure.remaining--;
      const message = failure.status === 403 ? 'You have exceeded a secondary rate limit. Please wait a few minutes before you try again.' : 'Server Error';
      return send(res, { status: failure.status, body: { message, documentation_url: DOCS }, headers: failure.headers });
    }

    const auth = await this.authenticate(req.headers.authorization);
    if (auth === 'invalid') return send(res, badCredentials);
    const context = { method, path, query: url.searchParams, headers: req.headers, body, raw, installationId: auth?.installationId, asApp: auth?.asApp ?? false };

    for (const route of this.routes) {
      const match = route.method === method ? route.pattern.exec(path) : null;
      if (match) return send(res, await route.handler({ ...context, match }));
    }
    return send(res, this.builtIn({ ...context, match: /^/.exec('') as RegExpExecArray }));
  }

  private async authenticate(header: string | undefined): Promise<{ installationId?: number; asApp: boolean } | 'invalid' | undefined> {
    const credential = /^(?:token|bearer) (\S+)$/i.exec(header ?? '')?.[1];
    if (!credential) return undefined;
    const token = this.tokens.get(credential);
    if (token) return token.expiresAt > Date.now() ? { installationId: token.installationId, asApp: false } : 'invalid';
    if (credential.split('.').length !== 3) return 'invalid';
    try {
      const { payload } = await jwtVerify(credential, this.publicKey, { algorithms: ['RS256'] });
      return String(payload.iss) === FakeGitHub.appId ? { asApp: true } : 'invalid';
    } catch {
      return 'invalid';
    }
  }

  private builtIn(req: FakeRequest): FakeResponse {
    const { method, path } = req;
    if (path.startsWith('/app')) {
      if (!req.asApp) return { status: 401, body: { message: 'A JSON web token could not be decoded', documentation_url: DOCS } };
      if (method === 'GET' && path === '/app') {
        return { status: 200, body: { id: Number(FakeGitHub.appId), slug: FakeGitHub.appSlug, name: 'CodeGuardian Local', owner: this.accountJson('codeguardian'), html_url: `${this.baseUrl}/apps/${FakeGitHub.appSlug}` } };
      }
      const installation = /^\/app\/installations\/(\d+)(\/access_tokens)?$/.exec(path);
      if (installation) {
        const id = Number(installation[1]);
        const json = this.installationJson(id);
        if (!json) return notFound;
        if (!installation[2] && method === 'GET') return { status: 200, body: json };
        if (installation[2] && method === 'POST') {
          const token = `ghs_${randomBytes(18).toString('base64url')}`;
          const expiresAt = Date.now() + 3600_000;
          this.tokens.set(token, { installationId: id, expiresAt });
          const repositories = this.repositories().filter((r) => r.installationId === id).map((r) => this.repositoryJson(r));
          return { status: 201, body: { token, expires_at: new Date(expiresAt).toISOString(), permissions: json.permissions, repository_selection: 'selected', repositories } };
        }
      }
      return notFound;
    }

    const repoInstallation = /^\/repos\/([^/]+)\/([^/]+)\/installation$/.exec(path);
    if (repoInstallation && method === 'GET') {
      if (!req.asApp) return { status: 401, body: { message: 'A JSON web token could not be decoded', documentation_url: DOCS } };
      const repo = this.repos.get(`${repoInstallation[1]}/${repoInstallation[2]}`.toLowerCase());
      return repo ? { status: 200, body: this.installationJson(repo.installationId) } : notFound;
    }

    if (req.installationId === undefined) return req.asApp ? notFound : badCredentials;
    if (method === 'GET' && path === '/installation/repositories') {
      const repositories = this.repositories().filter((r) => r.installationId === req.installationId).map((r) => this.repositoryJson(r));
      return { status: 200, body: { total_count: repositories.length, repository_selection: 'selected', repositories } };
    }

    const scoped = /^\/repos\/([^/]+)\/([^/]+)(\/.*)?$/.exec(path);
    const repo = scoped ? this.repos.get(`${scoped[1]}/${scoped[2]}`.toLowerCase()) : undefined;
    if (!scoped || !repo || repo.installationId !== req.installationId || method !== 'GET') return notFound;
    const rest = scoped[3] ?? '';
    if (rest === '') return { status: 200, body: this.repositoryJson(repo) };

    const commitRoute = /^\/commits\/(.+)$/.exec(rest);
    if (commitRoute) {
      const commit = repo.resolve(commitRoute[1] as string);
      return commit ? { status: 200, body: this.commitJson(repo, commit) } : { status: 422, body: { message: `No commit found for SHA: ${commitRoute[1]}`, documentation_url: DOCS } };
    }

    const compare = /^\/compare\/(.+?)\.\.\.(.+)$/.exec(rest);
    if (compare) {
      const base = repo.resolve(compare[1] as string);
      const head = repo.resolve(compare[2] as string);
      if (!base || !head) return notFound;
      const ahead = ancestry(repo, head.sha, base.sha);
      return {
        status: 200,
        body: {
          url: `${this.apiUrl}/repos/${repo.fullName}/compare/${compare[1]}...${compare[2]}`,
          status: base.sha === head.sha ? 'identical' : ahead >= 0 ? 'ahead' : 'diverged',
          ahead_by: Math.max(ahead, 0),
          behind_by: 0,
          total_commits: Math.max(ahead, 0),
          base_commit: this.commitJson(repo, base),
          merge_base_commit: this.commitJson(repo, base),
          commits: [],
          files: changedFiles(base, head),
        },
      };
    }

    const ref = /^\/git\/(ref|matching-refs)\/(.+)$/.exec(rest);
    if (ref) {
      const name = (ref[2] as string).replace(/^refs\//, '');
      if (ref[1] === 'matching-refs') {
        return { status: 200, body: [...repo.refs].filter(([n]) => n.startsWith(name)).map(([n, sha]) => this.refJson(repo, n, sha)) };
      }
      const sha = repo.refs.get(name);
      return sha ? { status: 200, body: this.refJson(repo, name, sha) } : notFound;
    }

    const contents = /^\/contents\/(.+)$/.exec(rest);
    if (contents) {
      const commit = repo.resolve(req.query.get('ref') ?? repo.defaultBranch);
      const filePath = contents[1] as string;
      const content = commit?.tree.get(filePath);
      if (!commit || !content) return notFound;
      return {
        status: 200,
        body: {
          type: 'file', encoding: 'base64', size: content.length, name: filePath.split('/').pop(), path: filePath,
          content: content.toString('base64'), sha: blobSha(content),
          url: `${this.apiUrl}/repos/${repo.fullName}/contents/${filePath}?ref=${commit.sha}`,
          html_url: `${this.baseUrl}/${repo.fullName}/blob/${commit.sha}/${filePath}`,
        },
      };
    }

    const tarball = /^\/tarball(?:\/(.+))?$/.exec(rest);
    if (tarball) {
      const commit = repo.resolve(tarball[1] ?? repo.defaultBranch);
      if (!commit) return notFound;
      return { status: 302, headers: { location: `${this.baseUrl}/_codeload/${repo.owner}/${repo.name}/legacy.tar.gz/${commit.sha}` } };
    }
    return notFound;
  }
}

/** Git's blob id of some content. */
export function blobSha(content: Buffer): string {
  return createHash('sha1').update(`blob ${content.length}\0`).update(content).digest('hex');
}

function treeSha(commit: FakeCommit): string {
  const hash = createHash('sha1');
  for (const [path, content] of [...commit.tree].sort(([a], [b]) => a.localeCompare(b))) hash.update(path).update(blobSha(content));
  return hash.digest('hex');
}

/** Files that differ between two commits, in the compare/commit API's shape. */
export function changedFiles(base: FakeCommit | undefined, head: FakeCommit): Record<string, unknown>[] {
  const files: Record<string, unknown>[] = [];
  const before = base?.tree ?? new Map<string, Buffer>();
  for (const [path, content] of head.tree) {
    const old = before.get(path);
    if (old && old.equals(content)) continue;
    const lines = content.toString('utf8').split('\n').length;
    files.push({ sha: blobSha(content), filename: path, status: old ? 'modified' : 'added', additions: lines, deletions: old ? old.toString('utf8').split('\n').length : 0, changes: lines });
  }
  for (const [path, content] of before) {
    if (!head.tree.has(path)) files.push({ sha: blobSha(content), filename: path, status: 'removed', additions: 0, deletions: content.toString('utf8').split('\n').length, changes: 0 });
  }
  return files.sort((a, b) => String(a.filename).localeCompare(String(b.filename)));
}

/** Commits from `head` back to `base` along first parents, or -1 when `base` is not an ancestor. */
function ancestry(repo: FakeRepo, head: string, base: string): number {
  let steps = 0;
  for (let sha: string | undefined = head; sha; sha = repo.commits.get(sha)?.parents[0]) {
    if (sha === base) return steps;
    steps++;
  }
  return -1;
}

function parseBody(raw: Buffer): unknown {
  if (raw.length === 0) return undefined;
  try {
    return JSON.parse(raw.toString('utf8'));
  } catch {
    return undefined;
  }
}

function send(res: ServerResponse, answer: FakeResponse): void {
  const headers: Record<string, string> = {
    'x-github-media-type': 'github.v3; format=json',
    'x-ratelimit-limit': '5000',
    'x-ratelimit-remaining': '4999',
    'x-ratelimit-reset': String(Math.floor(Date.now() / 1000) + 3600),
    ...answer.headers,
  };
  if (answer.raw) {
    res.writeHead(answer.status, { 'content-length': String(answer.raw.length), ...headers });
    res.end(answer.raw);
    return;
  }
  if (answer.body === undefined) {
    res.writeHead(answer.status, headers);
    res.end();
    return;
  }
  res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(answer.body));
}
