import { randomUUID } from 'node:crypto';
import type { Services } from '../../../lib/local/stack.ts';
import { startTestServices } from '../support/local-services.ts';

// Rejected requests are logged at INFO; API tests keep warnings and errors (import this module first).
process.env.POWERTOOLS_LOG_LEVEL ??= 'WARN';

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
