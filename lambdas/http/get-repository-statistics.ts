import { repositoryStatistics } from '../../shared/api/repositories.ts';
import { httpRoute } from '../../shared/http/presets.ts';
import { IdParams } from '../../shared/platform/routes/repositories.ts';

/** GET /api/repositories/{id}/statistics. */
export const handler = httpRoute({ access: 'user', params: IdParams }, ({ user, params }) => repositoryStatistics(user.userId, params.id));
