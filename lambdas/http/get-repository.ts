import { repositoryDetail } from '../../shared/api/repositories.ts';
import { httpRoute } from '../../shared/http/presets.ts';
import { IdParams } from '../../shared/platform/routes/repositories.ts';

/** GET /api/repositories/{id}: one of the caller's repositories, else 404. */
export const handler = httpRoute({ access: 'user', params: IdParams }, ({ user, params }) => repositoryDetail(user.userId, params.id));
