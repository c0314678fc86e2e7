import { httpRoute } from '../../shared/http/presets.ts';
import { checkHealth } from '../../shared/runtime/health.ts';

/**
 * GET /api/health: 200 `healthy` when every required dependency answers, else 503 naming the failing ones. Not
 * rate limited: monitors poll it, and it must answer without the table it reports on.
 */
export const handler = httpRoute({ access: 'public', rateLimit: false }, async () => {
  const { failing, ...report } = await checkHealth();
  if (failing.length === 0) return report;
  return {
    status: 503,
    body: { ...report, error: `Unavailable: ${failing.join(', ')}`, code: 'SERVICE_UNAVAILABLE', failing },
  };
});
