import { scanReport } from '../../shared/api/scans.ts';
import { httpRoute } from '../../shared/http/presets.ts';
import { IdParams } from '../../shared/platform/routes/repositories.ts';
import { ScanReportQuery } from '../../shared/platform/routes/scans.ts';

/** GET /api/scans/{id}/report?format=json|sarif: the stored report; 404 REPORT_NOT_READY, 400 UNSUPPORTED_FORMAT for pdf. */
export const handler = httpRoute({ access: 'user', params: IdParams, query: ScanReportQuery }, ({ user, params, query }) =>
  scanReport(user.userId, params.id, query.format),
);
