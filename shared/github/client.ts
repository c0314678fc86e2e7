import { createHash, createPrivateKey } from 'node:crypto';
import { App } from '@octokit/app';
import { Octokit as OctokitCore } from '@octokit/core';
import { retry } from '@octokit/plugin-retry';
import { throttling } from '@octokit/plugin-throttling';
import { ConfigError, config, loadSecrets } from '../runtime/env.ts';
import { logger } from '../runtime/powertools.ts';

// The GitHub App client: one App per configuration, kept at module scope so its installation-token cache lives
// as long as the warm function. Every request goes to GITHUB_API_URL (github.com or GitHub Enterprise Server),
// is retried with backoff on 5xx, and waits out primary and secondary rate limits a bounded number of times.

/** Retries of a request that failed with a 5xx (waits of 1, 4 and 9 s). */
const SERVER_ERROR_RETRIES = 3;
/** Rate-limit waits per request before it fails. */
const RATE_LIMIT_RETRIES = 2;
/** A rate-limit wait longer than this fails the request instead: a function cannot sleep until the hour's reset. */
const MAX_RATE_LIMIT_WAIT_SECONDS = 120;
/** Milliseconds per unit of backoff: 5xx retries wait 1, 4 and 9 units, rate limits retry-after units. */
let backoffUnitMs = 1000;
/** An installation token is replaced this long before GitHub's `expires_at`, so no request starts with a dying token. */
export const TOKEN_REFRESH_MARGIN_MS = 5 * 60_000;

/** The status of a failed Octokit request, if it has one. */
export function statusOf(error: unknown): number | undefined {
  const status = (error as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

/**
 * The App's credentials were refused or are unusable. Carries status 401 and a message that says what to fix;
 * it never contains the key.
 */
export class GithubAppCredentialsError extends ConfigError {
  readonly status = 401;
  readonly code = 'GITHUB_APP_MISCONFIGURED';
}

/**
 * The installation-token cache @octokit/auth-app consults before asking for a token. Its own default keeps a
 * token 59 minutes after it was fetched whatever GitHub's `expires_at` says; this one reads `expires_at` from
 * the cached value (`token|createdAt|expiresAt|…`) and stops handing the token out {@link TOKEN_REFRESH_MARGIN_MS}
 * before it.
 */
export class InstallationTokenCache {
  private readonly entries = new Map<string, string>();

  constructor(private readonly now: () => number = Date.now) {}

  get(key: string): string | undefined {
    const value = this.entries.get(key);
    if (value === undefined) return undefined;
    const expiresAt = Date.parse(value.split('|')[2] ?? '');
    if (!Number.isFinite(expiresAt) || expiresAt - this.now() <= TOKEN_REFRESH_MARGIN_MS) {
      this.entries.delete(key);
      return undefined;
    }
    return value;
  }

  set(key: string, value: string): void {
    this.entries.set(key, value);
  }

  get size(): number {
    return this.entries.size;
  }
}

function logRateLimit(kind: string, retryAfter: number, options: { method?: string; url?: string }, retryCount: number): boolean {
  const retrying = retryCount < RATE_LIMIT_RETRIES && retryAfter <= MAX_RATE_LIMIT_WAIT_SECONDS;
  logger.warn(`GitHub ${kind} rate limit`, { method: options.method, url: options.url, retryAfter, retryCount, retrying });
  return retrying;
}

const octokitLog = {
  debug: () => undefined,
  info: () => undefined,
  warn: (message: string) => logger.warn(message),
  error: (message: string) => logger.error(message),
};

/** The request path without host or query, for messages. */
function pathOf(url: unknown): string {
  if (typeof url !== 'string') return '';
  try {
    return new URL(url, 'http://github.invalid').pathname;
  } catch {
    return url;
  }
}

/**
 * Whether a failed request was authenticated as the App: @octokit/auth-app sends the JWT as `bearer …` and
 * installation tokens as `token …` (the error keeps only the scheme, the credential is redacted).
 */
function sentAsApp(error: unknown): boolean {
  const authorization = (error as { request?: { headers?: Record<string, unknown> } }).request?.headers?.authorization;
  return typeof authorization === 'string' && /^bearer /i.test(authorization);
}

/** Turns GitHub refusing the App's own JWT into a message naming what to check; other errors pass unchanged. */
function explainAppAuthFailure(appId: string, error: unknown, options: { method?: string; url?: unknown }): unknown {
  const path = pathOf(options.url);
  if (statusOf(error) !== 401 || !(/\/app(\/|$)/.test(path) || sentAsApp(error))) return error;
  const answer = (error as { response?: { data?: { message?: unknown } } }).response?.data?.message;
  const said = typeof answer === 'string' ? ` (GitHub said: ${answer})` : '';
  return new GithubAppCredentialsError(
    `GitHub refused the App's credentials on ${options.method ?? 'GET'} ${path}${said}: GITHUB_APP_ID ${appId} does not match ` +
      'the private key in GITHUB_APP_PRIVATE_KEY, or that key was deleted in the App settings. Use the numeric App ID ' +
      "from the App's settings page and a private key generated there.",
    { cause: error },
  );
}

/** The private key as PEM, checked to be an RSA private key so a pasting mistake fails with a useful message. */
function normalisePrivateKey(raw: string): string {
  const pem = raw.includes('\\n') ? raw.replace(/\\n/g, '\n') : raw;
  let type: string | undefined;
  try {
    type = createPrivateKey(pem.trim()).asymmetricKeyType;
  } catch {
    throw new ConfigError(
      'GITHUB_APP_PRIVATE_KEY is not a readable PEM private key: use the whole .pem file GitHub generated, ' +
        'from "-----BEGIN RSA PRIVATE KEY-----" to the END line, with real newlines or \\n escapes',
    );
  }
  if (type !== 'rsa') {
    throw new ConfigError(`GITHUB_APP_PRIVATE_KEY is a ${type ?? 'non-RSA'} key; GitHub App keys are RSA keys generated in the App's settings`);
  }
  return `${pem.trim()}\n`;
}

function buildOctokit(apiUrl: string, appId: string, cache: InstallationTokenCache) {
  const Base = OctokitCore.plugin(retry, throttling).defaults({
    baseUrl: apiUrl,
    log: octokitLog,
    retry: { retries: SERVER_ERROR_RETRIES, retryAfterBaseValue: backoffUnitMs },
    throttle: {
      retryAfterBaseValue: backoffUnitMs,
      onRateLimit: (retryAfter: number, options: { method?: string; url?: string }, _octokit: unknown, retryCount: number) =>
        logRateLimit('primary', retryAfter, options, retryCount),
      onSecondaryRateLimit: (retryAfter: number, options: { method?: string; url?: string }, _octokit: unknown, retryCount: number) =>
        logRateLimit('secondary', retryAfter, options, retryCount),
    },
  });
  // @octokit/app builds its own Octokit and, per installation, another of the same class: the constructor is the
  // one place to hand both the shared token cache and the credential-error hook.
  return class GithubOctokit extends Base {
    constructor(...args: ConstructorParameters<typeof Base>) {
      const [options = {}] = args;
      const auth = typeof options.auth === 'object' && options.auth !== null ? { ...options.auth, cache } : options.auth;
      super({ ...options, auth });
      this.hook.error('request', (error, requestOptions) => {
        throw explainAppAuthFailure(appId, error, requestOptions);
      });
    }
  };
}

interface Configured {
  readonly key: string;
  readonly app: App;
  readonly installations: Map<number, Promise<OctokitCore>>;
}

let current: Promise<Configured | undefined> | undefined;
let currentKey: string | undefined;

async function settings(): Promise<{ appId: string; apiUrl: string; privateKey: string } | undefined> {
  const { githubAppId, githubApiUrl } = config();
  const privateKey = (await loadSecrets()).GITHUB_APP_PRIVATE_KEY;
  if (!githubAppId || !privateKey) return undefined;
  if (!/^\d+$/.test(githubAppId)) {
    throw new ConfigError('GITHUB_APP_ID must be the numeric App ID shown on the App settings page, not its name or client id');
  }
  return { appId: githubAppId, apiUrl: githubApiUrl, privateKey };
}

async function configured(): Promise<Configured | undefined> {
  const found = await settings();
  const key = found ? createHash('sha256').update(`${found.appId}\0${found.apiUrl}\0${found.privateKey}`).digest('hex') : 'none';
  if (current && currentKey === key) return current;
  currentKey = key;
  current = (async () => {
    if (!found) return undefined;
    const cache = new InstallationTokenCache();
    const Octokit = buildOctokit(found.apiUrl, found.appId, cache);
    const app = new App({ appId: found.appId, privateKey: normalisePrivateKey(found.privateKey), Octokit, log: octokitLog });
    return { key, app, installations: new Map() };
  })();
  current.catch(() => {
    if (currentKey === key) current = currentKey = undefined;
  });
  return current;
}

/**
 * The GitHub App authenticated as itself (JWT), against GITHUB_API_URL; undefined when GITHUB_APP_ID or
 * GITHUB_APP_PRIVATE_KEY is not set. Built once per configuration and reused across invocations.
 */
export async function githubApp(): Promise<App | undefined> {
  return (await configured())?.app;
}

/**
 * An Octokit acting as one installation. Its token comes from the App's cache and is fetched again only shortly
 * before GitHub's expiry, so consecutive calls (and warm invocations) share one token.
 */
export async function installationClient(installationId: number): Promise<OctokitCore> {
  if (!Number.isInteger(installationId) || installationId <= 0) {
    throw new TypeError(`Installation id must be a positive integer, got ${String(installationId)}`);
  }
  const state = await configured();
  if (!state) throw new ConfigError('The GitHub App is not configured: set GITHUB_APP_ID and GITHUB_APP_PRIVATE_KEY');
  let client = state.installations.get(installationId);
  if (!client) {
    client = state.app.getInstallationOctokit(installationId) as Promise<OctokitCore>;
    state.installations.set(installationId, client);
    client.catch(() => state.installations.delete(installationId));
  }
  return client;
}

/**
 * Forgets the App and its cached tokens (after a key rotation, and between tests). `backoffUnitMs` scales the
 * waits between retries of the clients built afterwards (tests shorten them; GitHub's retry-after is in seconds).
 */
export function resetGithubClient(options: { backoffUnitMs?: number } = {}): void {
  current = currentKey = undefined;
  backoffUnitMs = options.backoffUnitMs ?? 1000;
}
