import { logout } from '../../shared/http/accounts.ts';
import { httpRoute } from '../../shared/http/presets.ts';

/** POST /api/auth/logout: revokes this token's `jti` until it expires, and its session's refresh tokens. */
export const handler = httpRoute({ access: 'user' }, ({ user }) => logout(user));
