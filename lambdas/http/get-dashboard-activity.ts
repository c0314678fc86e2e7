import { dashboardActivity } from '../../shared/api/dashboard.ts';
import { httpRoute } from '../../shared/http/presets.ts';
import { ActivityQuery } from '../../shared/platform/routes/dashboard.ts';

/** GET /api/dashboard/activity: the latest 50 events. */
export const handler = httpRoute({ access: 'user', readOnly: true, query: ActivityQuery }, ({ user, query }) => dashboardActivity(user.userId, query));
