import { aiChat } from '../../shared/api/ai.ts';
import { httpRoute } from '../../shared/http/presets.ts';
import { ChatBody } from '../../shared/platform/routes/ai.ts';

/** POST /api/ai/chat: one assistant turn over the caller's own findings. */
export const handler = httpRoute({ access: 'user', body: ChatBody }, ({ user, body }) => aiChat(user.userId, body));
