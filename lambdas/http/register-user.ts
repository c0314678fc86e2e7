import { registerAccount } from '../../shared/http/accounts.ts';
import { httpRoute } from '../../shared/http/presets.ts';
import { RegisterBody } from '../../shared/platform/routes/auth.ts';

/** POST /api/auth/register: 201 with `{ token, refreshToken, user }`; a taken email or username is 409. */
export const handler = httpRoute({ access: 'public', body: RegisterBody }, async ({ body }) => ({
  status: 201,
  body: await registerAccount(body),
}));
