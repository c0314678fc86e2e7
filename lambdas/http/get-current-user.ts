import { currentUser } from '../../shared/http/accounts.ts';
import { httpRoute } from '../../shared/http/presets.ts';

/** GET /api/auth/me: `{ user }` for the token's user. */
export const handler = httpRoute({ access: 'user' }, ({ user }) => currentUser(user));
