/**
 * The reply to a client's WebSocket message, or undefined for none. `ping` (plain text or `{ "action": "ping" }`)
 * answers `pong` in the same form; anything else is ignored.
 */
export function answerClientMessage(body: string | undefined, isBase64Encoded = false): string | undefined {
  if (body === undefined) return undefined;
  const text = (isBase64Encoded ? Buffer.from(body, 'base64').toString('utf8') : body).trim();
  if (text.toLowerCase() === 'ping') return 'pong';
  if (!text.startsWith('{')) return undefined;
  try {
    const message = JSON.parse(text) as { action?: unknown; type?: unknown };
    if (message.action === 'ping' || message.type === 'ping') {
      return JSON.stringify({ event: 'pong', timestamp: new Date().toISOString() });
    }
  } catch {
    // not JSON: ignored like any other unknown message
  }
  return undefined;
}
