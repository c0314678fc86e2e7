import { startCompatScan } from '../../shared/api/compat.ts';
import { httpRoute } from '../../shared/http/presets.ts';
import { CompatScanBody } from '../../shared/platform/routes/compat.ts';

/** POST /api/scan (second seed): `{ scanId, status, executionId, message }`. */
export const handler = httpRoute({ access: 'user', body: CompatScanBody }, ({ user, body }) => startCompatScan(user, body));
