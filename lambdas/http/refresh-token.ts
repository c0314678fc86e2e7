import { refreshSession } from '../../shared/http/accounts.ts';
import { httpRoute } from '../../shared/http/presets.ts';
import { RefreshBody } from '../../shared/platform/routes/auth.ts';

/** POST /api/auth/refresh: rotates the refresh token; a reused one revokes its session and answers 401. */
export const handler = httpRoute({ access: 'public', body: RefreshBody }, ({ body }) => refreshSession(body.refreshToken));
