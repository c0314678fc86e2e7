import * as v from 'valibot';
import { BadRequestError, ServiceUnavailableError } from '../http/errors.ts';
import { config, requireSecret } from '../runtime/env.ts';

/** A GitHub user as the OAuth flow learns it, with the user's access token. */
export interface GithubIdentity {
  readonly id: number;
  readonly login: string;
  readonly email: string;
  readonly avatarUrl?: string;
  readonly accessToken: string;
}

const TIMEOUT_MS = 10_000;

// GitHub answers 200 with `{ error, error_description }` for a bad or expired code.
const TokenAnswer = v.looseObject({
  access_token: v.optional(v.pipe(v.string(), v.minLength(1))),
  error: v.optional(v.string()),
  error_description: v.optional(v.string()),
});
const UserAnswer = v.looseObject({
  id: v.number(),
  login: v.string(),
  email: v.nullish(v.string()),
  avatar_url: v.nullish(v.string()),
});
const EmailsAnswer = v.array(v.looseObject({ email: v.string(), primary: v.boolean(), verified: v.boolean() }));

async function call(url: string, init: RequestInit): Promise<unknown> {
  let res: Response;
  try {
    res = await fetch(url, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) });
  } catch {
    throw new ServiceUnavailableError('GitHub did not answer', 'GITHUB_UNAVAILABLE');
  }
  if (res.status === 401) throw new BadRequestError('GitHub refused the access token', 'GITHUB_OAUTH_FAILED');
  if (!res.ok) throw new ServiceUnavailableError(`GitHub answered ${res.status}`, 'GITHUB_UNAVAILABLE');
  try {
    return await res.json();
  } catch {
    throw new ServiceUnavailableError('GitHub answered something other than JSON', 'GITHUB_UNAVAILABLE');
  }
}

function parseAnswer<S extends v.GenericSchema>(schema: S, value: unknown): v.InferOutput<S> {
  const result = v.safeParse(schema, value);
  if (!result.success) throw new ServiceUnavailableError('GitHub answered in an unexpected shape', 'GITHUB_UNAVAILABLE');
  return result.output;
}

/**
 * The OAuth web flow's second half: exchange `code` at `GITHUB_URL/login/oauth/access_token`, then read the user at
 * `GITHUB_API_URL/user` (and `/user/emails` for the primary verified address when the profile email is private),
 * so GitHub Enterprise Server works by setting both URLs.
 */
export async function exchangeOauthCode(code: string): Promise<GithubIdentity> {
  const { githubUrl, githubApiUrl, githubClientId } = config();
  if (!githubClientId) throw new ServiceUnavailableError('GitHub sign-in is not configured (GITHUB_CLIENT_ID)', 'GITHUB_OAUTH_NOT_CONFIGURED');
  let clientSecret: string;
  try {
    clientSecret = await requireSecret('GITHUB_CLIENT_SECRET');
  } catch {
    throw new ServiceUnavailableError('GitHub sign-in is not configured (GITHUB_CLIENT_SECRET)', 'GITHUB_OAUTH_NOT_CONFIGURED');
  }
  const token = parseAnswer(
    TokenAnswer,
    await call(`${githubUrl}/login/oauth/access_token`, {
      method: 'POST',
      headers: { accept: 'application/json', 'content-type': 'application/json' },
      body: JSON.stringify({ client_id: githubClientId, client_secret: clientSecret, code }),
    }),
  );
  const accessToken = token.access_token;
  if (!accessToken) {
    throw new BadRequestError('GitHub did not accept the authorization code', 'GITHUB_OAUTH_FAILED', { reason: token.error ?? 'no_token' });
  }
  const headers = {
    accept: 'application/vnd.github+json',
    authorization: `Bearer ${accessToken}`,
    'x-github-api-version': '2022-11-28',
    'user-agent': 'CodeGuardian',
  };
  const user = parseAnswer(UserAnswer, await call(`${githubApiUrl}/user`, { headers }));
  let email = user.email ?? undefined;
  if (!email) {
    const emails = parseAnswer(EmailsAnswer, await call(`${githubApiUrl}/user/emails`, { headers }));
    email = (emails.find((e) => e.primary && e.verified) ?? emails.find((e) => e.verified))?.email;
  }
  if (!email) throw new BadRequestError('The GitHub account has no verified email address', 'GITHUB_EMAIL_UNAVAILABLE');
  return { id: user.id, login: user.login, email, avatarUrl: user.avatar_url ?? undefined, accessToken };
}
