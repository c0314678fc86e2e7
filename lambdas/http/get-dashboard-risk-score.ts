import { dashboardRiskScore } from '../../shared/api/dashboard.ts';
import { httpRoute } from '../../shared/http/presets.ts';

/** GET /api/dashboard/risk-score: 0-1 with its factors. */
export const handler = httpRoute({ access: 'user', readOnly: true }, ({ user }) => dashboardRiskScore(user.userId));
