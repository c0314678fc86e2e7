import { wsRoute } from '../../shared/http/presets.ts';
import { deleteConnectionById } from '../../shared/realtime/connections.ts';

/** $disconnect: forget the connection (TTL covers the ones whose disconnect never arrives). */
export const handler = wsRoute(async (event) => {
  await deleteConnectionById(event.requestContext.connectionId);
  return { statusCode: 200 };
});
