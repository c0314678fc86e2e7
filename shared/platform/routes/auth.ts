import * as v from 'valibot';
import { successStatus } from '../../http/openapi.ts';
import type { RouteDecl } from '../declarations.ts';

const Email = v.pipe(v.string(), v.maxLength(254), v.email('Must be an email address'));
const Username = v.pipe(
  v.string(),
  v.regex(/^[A-Za-z0-9](?:[A-Za-z0-9-]{0,37}[A-Za-z0-9])?$/, 'Must be 1-39 letters, digits or inner hyphens'),
);

export const RegisterBody = v.object({
  email: Email,
  password: v.pipe(v.string(), v.minLength(12, 'Must be at least 12 characters'), v.maxLength(256)),
  username: Username,
});

export const LoginBody = v.object({
  email: Email,
  password: v.pipe(v.string(), v.minLength(1), v.maxLength(256)),
});

export const RefreshBody = v.object({ refreshToken: v.pipe(v.string(), v.minLength(20), v.maxLength(200)) });

export const GithubCallbackBody = v.object({ code: v.pipe(v.string(), v.minLength(1), v.maxLength(512)) });

/** A user as the API shows it: never the password hash or the GitHub token. */
export const UserSchema = v.object({
  id: v.string(),
  email: v.string(),
  username: v.string(),
  subscription: v.picklist(['free', 'pro', 'enterprise']),
  githubLogin: v.optional(v.string()),
  avatarUrl: v.optional(v.string()),
  createdAt: v.pipe(v.string(), v.isoTimestamp()),
});

export const SessionResponse = v.object({ token: v.string(), refreshToken: v.string(), user: UserSchema });
export const CreatedSessionResponse = v.pipe(SessionResponse, successStatus(201));
export const MeResponse = v.object({ user: UserSchema });
export const LogoutResponse = v.object({ message: v.string() });

export const authRoutes = [
  {
    method: 'POST', path: '/api/auth/register', access: 'public', entry: 'lambdas/http/register-user.ts',
    summary: 'Create an account with email, username and password',
    schemas: { body: RegisterBody, response: CreatedSessionResponse },
  },
  {
    method: 'POST', path: '/api/auth/login', access: 'public', entry: 'lambdas/http/login-user.ts',
    summary: 'Exchange email and password for an access token and a refresh token',
    schemas: { body: LoginBody, response: SessionResponse },
  },
  {
    method: 'POST', path: '/api/auth/refresh', access: 'public', entry: 'lambdas/http/refresh-token.ts',
    summary: 'Rotate a refresh token: a new access token and refresh token; reuse revokes the session',
    schemas: { body: RefreshBody, response: SessionResponse },
  },
  {
    method: 'POST', path: '/api/auth/logout', access: 'user', entry: 'lambdas/http/logout-user.ts',
    summary: 'Revoke this access token and its session refresh tokens',
    schemas: { response: LogoutResponse },
  },
  {
    method: 'GET', path: '/api/auth/me', access: 'user', entry: 'lambdas/http/get-current-user.ts',
    summary: 'The signed-in user',
    schemas: { response: MeResponse },
  },
  {
    method: 'POST', path: '/api/auth/github/callback', access: 'public', entry: 'lambdas/http/github-oauth-callback.ts',
    summary: 'Sign in with GitHub (or, with a Bearer token, link GitHub to that account)',
    schemas: { body: GithubCallbackBody, response: SessionResponse },
  },
] as const satisfies readonly RouteDecl[];
