import { listScansOf } from '../../shared/api/scans.ts';
import { httpRoute } from '../../shared/http/presets.ts';
import { ScanListQuery } from '../../shared/platform/routes/scans.ts';

/** GET /api/scans?repositoryId&status, by page or cursor. */
export const handler = httpRoute({ access: 'user', readOnly: true, query: ScanListQuery }, ({ user, query }) => listScansOf(user.userId, query));
