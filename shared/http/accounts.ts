import { randomUUID } from 'node:crypto';
import { issueRefreshToken, revokeRefreshFamily, rotateRefreshToken } from '../db/refresh-tokens.ts';
import { revokeToken } from '../db/user-access.ts';
import {
  createUser,
  findUserByEmail,
  findUserByGithubId,
  getUser,
  isUsernameFree,
  linkGithub,
  toPublicUser,
  updateGithubToken,
  type PublicUser,
  type User,
} from '../db/users.ts';
import { exchangeOauthCode } from '../github/oauth.ts';
import { encryptToken } from '../runtime/token-crypto.ts';
import { bearerToken, decoyPasswordHash, hashPassword, signAccessToken, verifyAccessToken, verifyPassword, type AuthUser } from './auth.ts';
import { UnauthorizedError } from './errors.ts';

export interface Session {
  readonly token: string;
  readonly refreshToken: string;
  readonly user: PublicUser;
}

async function accessTokenFor(user: User, sessionId: string): Promise<string> {
  return signAccessToken({ userId: user.id, email: user.email, subscription: user.subscription }, { sessionId });
}

/** A new session (refresh-token family) for a user: access token, refresh token and the user. */
async function startSession(user: User): Promise<Session> {
  const { refreshToken, familyId } = await issueRefreshToken(user.id);
  return { token: await accessTokenFor(user, familyId), refreshToken, user: toPublicUser(user) };
}

/** POST /auth/register: hash the password, create the user with its guards (409 when taken), sign in. */
export async function registerAccount(input: { email: string; username: string; password: string }): Promise<Session> {
  const user = await createUser({ email: input.email, username: input.username, passwordHash: await hashPassword(input.password) });
  return startSession(user);
}

// Built during cold start, so the first unknown-email login costs one scrypt like every other.
decoyPasswordHash().catch(() => undefined);

const badCredentials = () => new UnauthorizedError('Email or password is incorrect', { reason: 'INVALID_CREDENTIALS' });

/**
 * POST /auth/login. An unknown email, a GitHub-only account and a wrong password all answer the same 401 after
 * one scrypt, so neither the answer nor its timing tells whether the email exists.
 */
export async function login(input: { email: string; password: string }): Promise<Session> {
  const user = await findUserByEmail(input.email);
  const ok = await verifyPassword(input.password, user?.passwordHash ?? (await decoyPasswordHash()));
  if (!user?.passwordHash || !ok) throw badCredentials();
  return startSession(user);
}

/** POST /auth/refresh: rotate the refresh token and sign a new access token for the same session. */
export async function refreshSession(refreshToken: string): Promise<Session> {
  const rotated = await rotateRefreshToken(refreshToken);
  const user = await getUser(rotated.userId).catch(() => {
    throw new UnauthorizedError('The refresh token is not valid');
  });
  return { token: await accessTokenFor(user, rotated.familyId), refreshToken: rotated.refreshToken, user: toPublicUser(user) };
}

/** POST /auth/logout: the access token's `jti` is revoked until it expires, and its session's refresh tokens. */
export async function logout(user: AuthUser): Promise<{ message: string }> {
  await revokeToken(user.jti, user.userId, user.exp);
  if (user.sid) await revokeRefreshFamily(user.userId, user.sid);
  return { message: 'Logged out' };
}

/** GET /auth/me. A token whose user no longer exists is no longer valid. */
export async function currentUser(user: AuthUser): Promise<{ user: PublicUser }> {
  const stored = await getUser(user.userId).catch(() => {
    throw new UnauthorizedError('The account no longer exists');
  });
  return { user: toPublicUser(stored) };
}

/** A username for a GitHub sign-up: the GitHub login, else the login with the GitHub id appended. */
async function usernameFor(login: string, githubId: number): Promise<string> {
  if (await isUsernameFree(login)) return login;
  return `${login.slice(0, 28)}-${githubId}`.slice(0, 39);
}

/**
 * POST /auth/github/callback. With a Bearer token the GitHub identity is linked to that user. Without one: the
 * user already linked to this GitHub id signs in (its token replaced), else the user with the same verified
 * email is linked, else a new user is created. The GitHub token is stored encrypted, bound to the user's id.
 */
export async function githubSignIn(code: string, authorization: string | undefined): Promise<Session> {
  const bearer = bearerToken(authorization);
  if (authorization && !bearer) throw new UnauthorizedError('The Authorization header must be a Bearer token');
  const caller = bearer ? await verifyAccessToken(bearer) : undefined;
  const identity = await exchangeOauthCode(code);
  const link = async (userId: string) =>
    linkGithub(userId, { id: identity.id, login: identity.login, avatarUrl: identity.avatarUrl, encryptedToken: await encryptToken(identity.accessToken, userId) });

  if (caller) return startSession(await link(caller.userId));
  const linked = await findUserByGithubId(identity.id);
  if (linked) return startSession(await updateGithubToken(linked.id, await encryptToken(identity.accessToken, linked.id), identity.login));
  const sameEmail = await findUserByEmail(identity.email);
  if (sameEmail) return startSession(await link(sameEmail.id));
  const id = randomUUID();
  const user = await createUser({
    id,
    email: identity.email,
    username: await usernameFor(identity.login, identity.id),
    github: { id: identity.id, login: identity.login, avatarUrl: identity.avatarUrl, encryptedToken: await encryptToken(identity.accessToken, id) },
  });
  return startSession(user);
}
