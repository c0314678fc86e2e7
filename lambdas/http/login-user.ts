import { login } from '../../shared/http/accounts.ts';
import { httpRoute } from '../../shared/http/presets.ts';
import { LoginBody } from '../../shared/platform/routes/auth.ts';

/** POST /api/auth/login: `{ token, refreshToken, user }`, or the same 401 for an unknown email and a wrong password. */
export const handler = httpRoute({ access: 'public', body: LoginBody }, ({ body }) => login(body));
