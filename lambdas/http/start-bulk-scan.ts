import { startBulkScans } from '../../shared/api/scans.ts';
import { httpRoute } from '../../shared/http/presets.ts';
import { BulkScanBody } from '../../shared/platform/routes/scans.ts';

/** POST /api/scans/bulk: 202 with the queued scans and the repositories past the quota. */
export const handler = httpRoute({ access: 'user', body: BulkScanBody }, ({ user, body }) => startBulkScans(user, body.repositoryIds));
