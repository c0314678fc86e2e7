import { verifyAccessToken } from '../../shared/http/auth.ts';
import { wsRoute } from '../../shared/http/presets.ts';
import { saveConnection } from '../../shared/realtime/connections.ts';

/** $connect: `?token=<jwt>` verified like a Bearer token (revocation included); a refusal is a 401 on the upgrade. */
export const handler = wsRoute(async (event) => {
  const user = await verifyAccessToken(event.queryStringParameters?.token);
  await saveConnection(user.userId, event.requestContext.connectionId);
  return { statusCode: 200 };
});
