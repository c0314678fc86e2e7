import { randomUUID } from 'node:crypto';
import { ConflictError, NotFoundError } from '../http/errors.ts';
import { getItem, transactWrite, updateItem, type Item, type TransactItem } from './client.ts';

export type Subscription = 'free' | 'pro' | 'enterprise';

/** The stored user. `passwordHash` is absent for accounts created through GitHub; `githubToken` is encrypted. */
export interface User {
  readonly id: string;
  readonly email: string;
  readonly username: string;
  readonly subscription: Subscription;
  readonly passwordHash?: string;
  readonly githubId?: number;
  readonly githubLogin?: string;
  readonly githubToken?: string;
  readonly avatarUrl?: string;
  readonly createdAt: string;
  readonly updatedAt: string;
}

/** The user as the API shows it. */
export interface PublicUser {
  readonly id: string;
  readonly email: string;
  readonly username: string;
  readonly subscription: Subscription;
  readonly githubLogin?: string;
  readonly avatarUrl?: string;
  readonly createdAt: string;
}

/** Uniqueness guard: one item per claimed email, username or GitHub id, naming the user that holds it. */
interface Guard {
  readonly userId: string;
}

export const userKey = (userId: string) => ({ pk: `USER#${userId}`, sk: 'PROFILE' });
const emailGuardKey = (email: string) => ({ pk: `UNIQUE#EMAIL#${email.toLowerCase()}`, sk: 'UNIQUE' });
const usernameGuardKey = (username: string) => ({ pk: `UNIQUE#USERNAME#${username.toLowerCase()}`, sk: 'UNIQUE' });
const githubGuardKey = (githubId: number) => ({ pk: `UNIQUE#GITHUB#${githubId}`, sk: 'UNIQUE' });

export function toPublicUser(user: User): PublicUser {
  return {
    id: user.id,
    email: user.email,
    username: user.username,
    subscription: user.subscription,
    ...(user.githubLogin ? { githubLogin: user.githubLogin } : {}),
    ...(user.avatarUrl ? { avatarUrl: user.avatarUrl } : {}),
    createdAt: user.createdAt,
  };
}

const guardPut = (key: { pk: string; sk: string }, userId: string, kind: string): TransactItem => ({
  Put: { Item: { ...key, userId, entity: 'UniqueGuard', kind }, ConditionExpression: 'attribute_not_exists(pk)' },
});

interface CancellationReason {
  readonly Code?: string;
}

/** The indexes of the transaction items whose condition failed, or undefined when it was not a cancellation. */
function failedConditions(error: unknown): number[] | undefined {
  if (!(error instanceof Error) || error.name !== 'TransactionCanceledException') return undefined;
  const reasons = (error as Error & { CancellationReasons?: CancellationReason[] }).CancellationReasons ?? [];
  return reasons.flatMap((reason, i) => (reason.Code === 'ConditionalCheckFailed' ? [i] : []));
}

export interface NewUser {
  /** Chosen by the caller when something (an encrypted token) must be bound to the id before it is stored. */
  readonly id?: string;
  readonly email: string;
  readonly username: string;
  readonly passwordHash?: string;
  readonly github?: { readonly id: number; readonly login: string; readonly avatarUrl?: string; readonly encryptedToken: string };
}

/**
 * Create a user with its email, username (and GitHub id) guards in one transaction: all or nothing; a taken
 * one answers 409 naming it (`EMAIL_TAKEN`, `USERNAME_TAKEN`, `GITHUB_ACCOUNT_IN_USE`).
 */
export async function createUser(input: NewUser): Promise<User> {
  const now = new Date().toISOString();
  const id = input.id ?? randomUUID();
  const email = input.email.trim();
  const user: User = {
    id,
    email,
    username: input.username,
    subscription: 'free',
    ...(input.passwordHash ? { passwordHash: input.passwordHash } : {}),
    ...(input.github ? { githubId: input.github.id, githubLogin: input.github.login, githubToken: input.github.encryptedToken, avatarUrl: input.github.avatarUrl } : {}),
    createdAt: now,
    updatedAt: now,
  };
  const items: TransactItem[] = [
    guardPut(emailGuardKey(email), id, 'email'),
    guardPut(usernameGuardKey(input.username), id, 'username'),
    {
      Put: {
        Item: { ...userKey(id), gsi1pk: `EMAIL#${email.toLowerCase()}`, gsi1sk: 'USER', entity: 'User', ...user },
        ConditionExpression: 'attribute_not_exists(pk)',
      },
    },
  ];
  if (input.github) items.push(guardPut(githubGuardKey(input.github.id), id, 'github'));
  try {
    await transactWrite(items);
  } catch (error) {
    const failed = failedConditions(error);
    if (failed?.includes(0)) throw new ConflictError('An account with this email already exists', 'EMAIL_TAKEN');
    if (failed?.includes(1)) throw new ConflictError('This username is taken', 'USERNAME_TAKEN');
    if (failed?.includes(3)) throw new ConflictError('This GitHub account is linked to another user', 'GITHUB_ACCOUNT_IN_USE');
    throw error;
  }
  return user;
}

/** A user by id (strongly consistent), or undefined. */
export async function findUserById(userId: string): Promise<User | undefined> {
  const item = await getItem<User>(userKey(userId), { consistent: true });
  return item ? stripKeys(item) : undefined;
}

/** A user by id, or 404 NOT_FOUND. */
export async function getUser(userId: string): Promise<User> {
  const user = await findUserById(userId);
  if (!user) throw new NotFoundError('User not found');
  return user;
}

/** Login by email: the email guard names the user (a consistent Get, unlike the eventually consistent index). */
export async function findUserByEmail(email: string): Promise<User | undefined> {
  const guard = await getItem<Guard>(emailGuardKey(email.trim()), { consistent: true });
  return guard ? findUserById(guard.userId) : undefined;
}

/** GitHub sign-in: the user holding this GitHub id, if any. */
export async function findUserByGithubId(githubId: number): Promise<User | undefined> {
  const guard = await getItem<Guard>(githubGuardKey(githubId), { consistent: true });
  return guard ? findUserById(guard.userId) : undefined;
}

/** Is this username free? (Choosing a username for a GitHub sign-up.) */
export async function isUsernameFree(username: string): Promise<boolean> {
  return (await getItem<Guard>(usernameGuardKey(username), { consistent: true })) === undefined;
}

export interface GithubLink {
  readonly id: number;
  readonly login: string;
  readonly avatarUrl?: string;
  /** Already encrypted for this user. */
  readonly encryptedToken: string;
}

/**
 * Link a GitHub identity to a user and store its encrypted token, claiming the GitHub id in the same
 * transaction. The id may already be this user's (a new token); held by another user → 409; a user already
 * linked to a different GitHub account → 409 `GITHUB_ALREADY_LINKED`.
 */
export async function linkGithub(userId: string, link: GithubLink): Promise<User> {
  const now = new Date().toISOString();
  try {
    await transactWrite([
      {
        Put: {
          Item: { ...githubGuardKey(link.id), userId, entity: 'UniqueGuard', kind: 'github' },
          ConditionExpression: 'attribute_not_exists(pk) OR userId = :uid',
          ExpressionAttributeValues: { ':uid': userId },
        },
      },
      {
        Update: {
          Key: userKey(userId),
          UpdateExpression: 'SET githubId = :gid, githubLogin = :login, githubToken = :token, updatedAt = :now' +
            (link.avatarUrl ? ', avatarUrl = if_not_exists(avatarUrl, :avatar)' : ''),
          ConditionExpression: 'attribute_exists(pk) AND (attribute_not_exists(githubId) OR githubId = :gid)',
          ExpressionAttributeValues: {
            ':gid': link.id,
            ':login': link.login,
            ':token': link.encryptedToken,
            ':now': now,
            ...(link.avatarUrl ? { ':avatar': link.avatarUrl } : {}),
          },
        },
      },
    ]);
  } catch (error) {
    const failed = failedConditions(error);
    if (failed?.includes(0)) throw new ConflictError('This GitHub account is linked to another user', 'GITHUB_ACCOUNT_IN_USE');
    if (failed?.includes(1)) {
      if (!(await findUserById(userId))) throw new NotFoundError('User not found');
      throw new ConflictError('This account is already linked to a different GitHub account', 'GITHUB_ALREADY_LINKED');
    }
    throw error;
  }
  return getUser(userId);
}

/** Replace the stored (encrypted) GitHub token of a linked user after a new sign-in. */
export async function updateGithubToken(userId: string, encryptedToken: string, login: string): Promise<User> {
  const item = await updateItem<User>(userKey(userId), { githubToken: encryptedToken, githubLogin: login, updatedAt: new Date().toISOString() }, { ifExists: true });
  return stripKeys(item);
}

function stripKeys(item: Item<User>): User {
  const { pk: _pk, sk: _sk, gsi1pk: _g1, gsi1sk: _g1s, entity: _e, ...user } = item as Item<User> & { gsi1pk?: string; gsi1sk?: string; entity?: string };
  return user;
}
