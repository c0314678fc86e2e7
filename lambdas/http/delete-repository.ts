import { disconnectRepository } from '../../shared/api/repositories.ts';
import { httpRoute } from '../../shared/http/presets.ts';
import { IdParams } from '../../shared/platform/routes/repositories.ts';

/** DELETE /api/repositories/{id}: the repository and everything recorded about it. */
export const handler = httpRoute({ access: 'user', params: IdParams }, ({ user, params }) => disconnectRepository(user.userId, params.id));
