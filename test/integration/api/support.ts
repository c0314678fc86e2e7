import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Services } from '../../../lib/local/stack.ts';
import type { RouteDecl } from '../../../shared/platform/declarations.ts';
import { logger } from '../../../shared/runtime/powertools.ts';
import { startTestServices } from '../support/local-services.ts';

/** A registered user with live credentials. */
export interface TestUser {
  readonly id: string;
  readonly email: string;
  readonly username: string;
  readonly password: string;
  readonly token: string;
  readonly refreshToken: string;
}

export interface ApiAnswer<T = Record<string, unknown>> {
  readonly status: number;
  readonly headers: Headers;
  readonly body: T;
}

export interface RequestInit {
  readonly method?: string;
  /** Sent as JSON; a string is sent as it is. */
  readonly body?: unknown;
  readonly token?: string;
  readonly headers?: Readonly<Record<string, string>>;
}

/** A client of the local gateway at `base` (`http://127.0.0.1:<port>`). */
export class Api {
  constructor(readonly base: string) {}

  async request<T = Record<string, unknown>>(path: string, init: RequestInit = {}): Promise<ApiAnswer<T>> {
    const headers: Record<string, string> = { ...init.headers };
    if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
    let body: string | undefined;
    if (init.body !== undefined) {
      body = typeof init.body === 'string' ? init.body : JSON.stringify(init.body);
      headers['content-type'] ??= 'application/json';
    }
    const res = await fetch(`${this.base}${path}`, { method: init.method ?? (body === undefined ? 'GET' : 'POST'), headers, body });
    const text = await res.text();
    let parsed: unknown = text;
    try {
      parsed = text === '' ? undefined : JSON.parse(text);
    } catch {
      // not JSON: keep the text
    }
    return { status: res.status, headers: res.headers, body: parsed as T };
  }

  /** Registers a fresh user (unique email and username unless given) and returns it with its tokens. */
  async registerUser(overrides: Partial<Pick<TestUser, 'email' | 'username' | 'password'>> = {}): Promise<TestUser> {
    const suffix = randomUUID().slice(0, 8);
    const email = overrides.email ?? `user-${suffix}@example.com`;
    const username = overrides.username ?? `user-${suffix}`;
    const password = overrides.password ?? `correct horse ${suffix}`;
    const res = await this.request<AuthAnswer>('/api/auth/register', { body: { email, username, password } });
    if (res.status !== 201) throw new Error(`register answered ${res.status}: ${JSON.stringify(res.body)}`);
    return { id: res.body.user.id, email, username, password, token: res.body.token, refreshToken: res.body.refreshToken };
  }

  /** Logs in with email and password; fails the test on anything but 200. */
  async loginAs(user: Pick<TestUser, 'email' | 'password'>): Promise<TestUser> {
    const res = await this.request<AuthAnswer>('/api/auth/login', { body: { email: user.email, password: user.password } });
    if (res.status !== 200) throw new Error(`login answered ${res.status}: ${JSON.stringify(res.body)}`);
    return {
      id: res.body.user.id,
      email: res.body.user.email,
      username: res.body.user.username,
      password: user.password,
      token: res.body.token,
      refreshToken: res.body.refreshToken,
    };
  }
}

export interface AuthAnswer {
  readonly token: string;
  readonly refreshToken: string;
  readonly user: { readonly id: string; readonly email: string; readonly username: string; readonly subscription: string };
}

/**
 * Every integration test drives one loopback address, so the per-IP limit of public routes (100 / 15 min) would
 * be shared by all test files; they run with roomy limits unless a test sets its own.
 */
export function useTestRateLimits(): void {
  process.env.RATE_LIMIT_PUBLIC ??= '100000';
  process.env.RATE_LIMIT_USER ??= '100000';
}

/** The local gateway and its services on free ports against the shared emulators, with an API client. */
export async function startApi(options: Parameters<typeof startTestServices>[0] = {}): Promise<{ services: Services; api: Api }> {
  useTestRateLimits();
  // Every rejected request is logged at INFO; API tests keep warnings and errors.
  logger.setLogLevel('WARN');
  const services = await startTestServices(options);
  return { services, api: new Api(`http://127.0.0.1:${services.apiPort}`) };
}

/** Module-level helpers for one API, for tests that prefer functions. */
export const registerUser = (api: Api, overrides?: Parameters<Api['registerUser']>[0]): Promise<TestUser> => api.registerUser(overrides);
export const loginAs = (api: Api, user: Pick<TestUser, 'email' | 'password'>): Promise<TestUser> => api.loginAs(user);

/** A valid request for one route, made for the user who owns what it names. */
export interface PreparedRequest {
  /** Path parameters by name (`{ id: '…' }` for `/api/repositories/{id}`). */
  readonly params?: Readonly<Record<string, string>>;
  readonly body?: unknown;
  readonly query?: Readonly<Record<string, string>>;
  /** A token to send instead of the owner's (a route that spends it, like logout). */
  readonly token?: string;
  /** The status a good request answers when it is not 2xx by design on the test stack. */
  readonly expectStatus?: number;
  /** Settings the request needs on the stack, set only while it runs (handlers read them per request). */
  readonly env?: Readonly<Record<string, string>>;
  /** Extra request headers (a webhook's signature and delivery id). */
  readonly headers?: Readonly<Record<string, string>>;
}

/**
 * How the cross-route tests reach one route: `prepare` creates what the route acts on, owned by `owner`, and
 * returns a request that succeeds for that owner. Files export `routeFixtures` keyed by `"METHOD /path"`.
 */
export interface RouteFixture {
  prepare(api: Api, owner: TestUser): Promise<PreparedRequest>;
}
export type RouteFixtures = Readonly<Record<string, RouteFixture>>;

/** `/api/repositories/{id}` with `{ id: 'r1' }` → `/api/repositories/r1` (query appended); a missing parameter throws. */
export function fillPath(path: string, request: PreparedRequest = {}): string {
  const filled = path.replace(/\{([A-Za-z0-9_]+)\+?\}/g, (_, name: string) => {
    const value = request.params?.[name];
    if (value === undefined) throw new Error(`No value for the path parameter ${name} of ${path}`);
    return encodeURIComponent(value);
  });
  const query = new URLSearchParams(request.query ?? {}).toString();
  return query ? `${filled}?${query}` : filled;
}

// ------------------------------------------------------------------------------------------------ fake GitHub

export interface GithubAccount {
  id: number;
  login: string;
  /** The public profile email; null when the user keeps it private. */
  email: string | null;
  emails: { email: string; primary: boolean; verified: boolean; visibility: string | null }[];
}


/** A loopback stand-in for github.com and its REST API (GHES layout: API under /api/v3), answering GitHub's shapes. */
export class FakeGithub {
  static readonly clientId = 'Iv1.testclient0001';
  static readonly clientSecret = 'test-client-secret-0123456789abcdef01234567';
  readonly server: Server;
  readonly codes = new Map<string, GithubAccount>();
  readonly tokens = new Map<string, GithubAccount>();
  readonly requests: string[] = [];
  base = '';

  constructor() {
    this.server = createServer((req, res) => {
      this.handle(req, res).catch(() => {
        res.writeHead(500);
        res.end();
      });
    });
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    this.base = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  /** `GITHUB_URL` and `GITHUB_API_URL` of this server. */
  urls(): Record<string, string> {
    return { GITHUB_URL: this.base, GITHUB_API_URL: `${this.base}/api/v3` };
  }

  /**
   * Sets the OAuth client credentials (before the API starts: secrets are read once) and, unless `urls` is false,
   * points `GITHUB_URL`/`GITHUB_API_URL` at this server.
   */
  configure(options: { urls?: boolean } = {}): void {
    if (options.urls !== false) Object.assign(process.env, this.urls());
    process.env.GITHUB_CLIENT_ID = FakeGithub.clientId;
    process.env.GITHUB_CLIENT_SECRET = FakeGithub.clientSecret;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  /** A fresh authorization code for `account`, as GitHub's redirect would carry. */
  codeFor(account: GithubAccount): string {
    const code = randomBytes(10).toString('hex');
    this.codes.set(code, account);
    return code;
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const chunk of req) chunks.push(chunk as Buffer);
    this.requests.push(`${req.method} ${req.url}`);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json; charset=utf-8' });
      res.end(JSON.stringify(body));
    };
    if (req.method === 'POST' && req.url === '/login/oauth/access_token') {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { client_id?: string; client_secret?: string; code?: string };
      if (body.client_id !== FakeGithub.clientId || body.client_secret !== FakeGithub.clientSecret) {
        return json(200, { error: 'incorrect_client_credentials', error_description: 'The client_id and/or client_secret passed are incorrect.' });
      }
      const account = body.code ? this.codes.get(body.code) : undefined;
      if (!account || !body.code) {
        return json(200, { error: 'bad_verification_code', error_description: 'The code passed is incorrect or expired.', error_uri: 'https://docs.github.com/apps/managing-oauth-apps/troubleshooting-oauth-app-access-token-request-errors/#bad-verification-code' });
      }
      this.codes.delete(body.code);
      const token = `gho_${randomBytes(18).toString('base64url')}`;
      this.tokens.set(token, account);
      return json(200, { access_token: token, token_type: 'bearer', scope: 'read:user,user:email' });
    }
    const token = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '')?.[1];
    const account = token ? this.tokens.get(token) : undefined;
    if (req.url?.startsWith('/api/v3/') && !account) {
      return json(401, { message: 'Bad credentials', documentation_url: 'https://docs.github.com/rest', status: '401' });
    }
    if (req.method === 'GET' && req.url === '/api/v3/user' && account) {
      return json(200, {
        login: account.login, id: account.id, node_id: `MDQ6VXNlcj${account.id}`, avatar_url: `https://avatars.githubusercontent.com/u/${account.id}?v=4`,
        gravatar_id: '', url: `https://api.github.com/users/${account.login}`, html_url: `https://github.com/${account.login}`,
        type: 'User', site_admin: false, name: 'Octo Cat', company: null, blog: '', location: null, email: account.email,
        hireable: null, bio: null, public_repos: 2, public_gists: 0, followers: 1, following: 0,
        created_at: '2020-01-01T00:00:00Z', updated_at: '2026-01-01T00:00:00Z',
      });
    }
    if (req.method === 'GET' && req.url === '/api/v3/user/emails' && account) return json(200, account.emails);
    return json(404, { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' });
  }
}

/** A GitHub user with a public, verified primary email unless overridden. */
export function githubAccount(overrides: Partial<GithubAccount> = {}): GithubAccount {
  const id = 10_000_000 + Math.floor(Math.random() * 80_000_000);
  const login = `octo-${randomUUID().slice(0, 8)}`;
  const email = `${login}@users.example.com`;
  return { id, login, email, emails: [{ email, primary: true, verified: true, visibility: 'public' }], ...overrides };
}


// ------------------------------------------------------------------------------------------ route fixtures

/** Valid requests for the account routes; the GitHub callback needs a configured {@link FakeGithub}. */
export function accountFixtures(github?: FakeGithub): RouteFixtures {
  return {
    'GET /api/health': { prepare: async () => ({}) },
    'GET /api/openapi.json': { prepare: async () => ({}) },
    'POST /api/auth/register': {
      prepare: async () => {
        const suffix = randomUUID().slice(0, 8);
        return { body: { email: `fixture-${suffix}@example.com`, username: `fixture-${suffix}`, password: `fixture password ${suffix}` } };
      },
    },
    'POST /api/auth/login': { prepare: async (_api, owner) => ({ body: { email: owner.email, password: owner.password } }) },
    'POST /api/auth/refresh': { prepare: async (api, owner) => ({ body: { refreshToken: (await api.loginAs(owner)).refreshToken } }) },
    'POST /api/auth/logout': { prepare: async (api, owner) => ({ token: (await api.loginAs(owner)).token }) },
    'GET /api/auth/me': { prepare: async () => ({}) },
    'POST /api/auth/github/callback': {
      prepare: async () => {
        if (!github) throw new Error('POST /api/auth/github/callback needs a FakeGithub: pass one to accountFixtures()');
        return { body: { code: github.codeFor(githubAccount()) }, env: github.urls() };
      },
    },
  };
}

/**
 * Fixtures for every route: the account routes' own plus the resource routes' from `fixtures-b.ts`
 * (`export const routeFixtures: RouteFixtures`). A missing file counts as no fixtures, so the routes that need
 * one fail by name rather than the whole suite failing to load.
 */
export async function loadRouteFixtures(github?: FakeGithub): Promise<RouteFixtures> {
  const file = './fixtures-b.ts';
  let resources: RouteFixtures = {};
  try {
    resources = ((await import(file)) as { routeFixtures?: RouteFixtures }).routeFixtures ?? {};
  } catch (error) {
    if (!/Cannot find module|ERR_MODULE_NOT_FOUND/.test(String((error as Error).message ?? error))) throw error;
  }
  return { ...resources, ...accountFixtures(github) };
}

export const routeKey = (route: Pick<RouteDecl, 'method' | 'path'>): string => `${route.method} ${route.path}`;

/** The fixture of a route, or an error naming the route and where its fixture belongs. */
export function fixtureFor(fixtures: RouteFixtures, route: RouteDecl): RouteFixture {
  const fixture = fixtures[routeKey(route)];
  if (!fixture) {
    throw new Error(`No fixture for ${routeKey(route)}: add one to test/integration/api/fixtures-b.ts (routeFixtures) or accountFixtures() in support.ts`);
  }
  return fixture;
}

/** Sends a prepared request for `route` with `token` (unless the request names its own). */
export async function send(api: Api, route: RouteDecl, request: PreparedRequest, token?: string): Promise<ApiAnswer> {
  const saved = Object.fromEntries(Object.keys(request.env ?? {}).map((name) => [name, process.env[name]]));
  Object.assign(process.env, request.env);
  try {
    return await api.request(fillPath(route.path, request), { method: route.method, body: request.body, token: request.token ?? token, headers: request.headers });
  } finally {
    for (const [name, value] of Object.entries(saved)) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
  }
}
