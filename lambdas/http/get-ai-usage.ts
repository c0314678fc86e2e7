import { userModelUsageSummary } from '../../shared/api/model-usage.ts';
import { httpRoute } from '../../shared/http/presets.ts';

/** GET /api/ai/usage: the caller's model tokens and estimated cost. */
export const handler = httpRoute({ access: 'user' }, ({ user }) => userModelUsageSummary(user.userId));
