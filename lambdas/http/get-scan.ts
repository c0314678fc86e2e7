import { scanDetail } from '../../shared/api/scans.ts';
import { httpRoute } from '../../shared/http/presets.ts';
import { IdParams } from '../../shared/platform/routes/repositories.ts';

/** GET /api/scans/{id}. */
export const handler = httpRoute({ access: 'user', params: IdParams }, ({ user, params }) => scanDetail(user.userId, params.id));
