import { githubSignIn } from '../../shared/http/accounts.ts';
import { httpRoute } from '../../shared/http/presets.ts';
import { GithubCallbackBody } from '../../shared/platform/routes/auth.ts';

/** POST /api/auth/github/callback: sign in (or sign up) with GitHub; with a Bearer token, link GitHub to that user. */
export const handler = httpRoute({ access: 'public', body: GithubCallbackBody }, ({ body, event }) =>
  githubSignIn(body.code, event.headers.authorization),
);
