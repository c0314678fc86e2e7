import { aiSuggestions } from '../../shared/api/ai.ts';
import { httpRoute } from '../../shared/http/presets.ts';

/** GET /api/ai/suggestions: which open vulnerabilities to fix first, and why. */
export const handler = httpRoute({ access: 'user' }, ({ user }) => aiSuggestions(user.userId));
