import { startRepositoryScan } from '../../shared/api/scans.ts';
import { httpRoute } from '../../shared/http/presets.ts';
import { IdParams, StartScanBody } from '../../shared/platform/routes/repositories.ts';

/** POST /api/repositories/{id}/scan: 202 with the queued scan; 429 SCAN_QUOTA_EXCEEDED past the daily quota. */
export const handler = httpRoute({ access: 'user', params: IdParams, body: StartScanBody }, ({ user, params, body }) =>
  startRepositoryScan(user, params.id, body?.branch),
);
