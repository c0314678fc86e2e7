import { dashboardTrends } from '../../shared/api/dashboard.ts';
import { httpRoute } from '../../shared/http/presets.ts';
import { TrendsQuery } from '../../shared/platform/routes/dashboard.ts';

/** GET /api/dashboard/trends?period=7d|30d|90d: daily open vulnerabilities per severity. */
export const handler = httpRoute({ access: 'user', readOnly: true, query: TrendsQuery }, ({ user, query }) => dashboardTrends(user.userId, query.period));
