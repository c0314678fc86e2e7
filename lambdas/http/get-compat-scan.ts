import { compatScanStatus } from '../../shared/api/compat.ts';
import { httpRoute } from '../../shared/http/presets.ts';
import { CompatScanParams } from '../../shared/platform/routes/compat.ts';

/** GET /api/scan/{scanId} (second seed): status, progress and results. */
export const handler = httpRoute({ access: 'user', params: CompatScanParams }, ({ user, params }) => compatScanStatus(user.userId, params.scanId));
