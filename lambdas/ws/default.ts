import { wsRoute } from '../../shared/http/presets.ts';
import { answerClientMessage } from '../../shared/realtime/messages.ts';

/** $default: `ping` gets `pong`; the feed is server-to-client, so anything else is ignored. */
export const handler = wsRoute(async (event) => {
  const reply = answerClientMessage(event.body ?? undefined, event.isBase64Encoded ?? false);
  return reply === undefined ? { statusCode: 200 } : { statusCode: 200, body: reply };
});
