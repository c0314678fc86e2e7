import { dashboardStats } from '../../shared/api/dashboard.ts';
import { httpRoute } from '../../shared/http/presets.ts';

/** GET /api/dashboard/stats: the first seed's Dashboard Stats. */
export const handler = httpRoute({ access: 'user', readOnly: true }, ({ user }) => dashboardStats(user.userId));
