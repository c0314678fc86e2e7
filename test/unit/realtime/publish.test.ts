import { afterAll, beforeEach, describe, expect, it } from '@jest/globals';
import { setBaseEnv, startDynamo } from '../runtime/support/aws-local.ts';
import { startConnectionsEndpoint } from './support/connections-endpoint.ts';

setBaseEnv();
const dynamo = await startDynamo();
const endpoint = await startConnectionsEndpoint(20);
process.env.WEBSOCKET_ENDPOINT = `${endpoint.endpoint}/ws`;

const { publishToUser, PUBLISH_CONCURRENCY } = await import('../../../shared/realtime/publish.ts');
const { saveConnection, connectionsOfUser } = await import('../../../shared/realtime/connections.ts');
const { REALTIME_EVENTS } = await import('../../../shared/realtime/events.ts');

afterAll(async () => {
  await Promise.all([dynamo.stop(), endpoint.close()]);
});
beforeEach(() => {
  endpoint.received.clear();
  endpoint.gone.clear();
  endpoint.forbidden.clear();
});

describe('publishToUser', () => {
  it('sends the envelope to every connection of the owner only', async () => {
    await saveConnection('owner-1', 'c-1');
    await saveConnection('owner-1', 'c-2');
    await saveConnection('someone-else', 'c-9');
    const result = await publishToUser('owner-1', 'scan:progress', { scanId: 's-1', progress: 45 });
    expect(result).toEqual({ delivered: 2, removed: 0, failed: 0 });
    expect([...endpoint.received.keys()].sort()).toEqual(['c-1', 'c-2']);
    const message = JSON.parse(endpoint.received.get('c-1')?.[0] ?? '{}') as Record<string, unknown>;
    expect(message).toEqual({ event: 'scan:progress', timestamp: expect.stringMatching(/^\d{4}-\d\d-\d\dT.*Z$/), data: { scanId: 's-1', progress: 45 } });
  });

  it('deletes a gone connection and counts other failures without throwing', async () => {
    await saveConnection('owner-2', 'live');
    await saveConnection('owner-2', 'stale');
    await saveConnection('owner-2', 'denied');
    endpoint.gone.add('stale');
    endpoint.forbidden.add('denied');
    const result = await publishToUser('owner-2', 'scan:failed', { scanId: 's-2', reason: 'x' });
    expect(result).toEqual({ delivered: 1, removed: 1, failed: 1 });
    expect((await connectionsOfUser('owner-2')).map((c) => c.connectionId).sort()).toEqual(['denied', 'live']);
  });

  it('does nothing for a user without connections', async () => {
    expect(await publishToUser('nobody', 'pr:merged', {})).toEqual({ delivered: 0, removed: 0, failed: 0 });
    expect(endpoint.received.size).toBe(0);
  });

  it(`posts to at most ${PUBLISH_CONCURRENCY} connections at once`, async () => {
    await Promise.all(Array.from({ length: 25 }, (_, i) => saveConnection('busy', `b-${i}`)));
    const result = await publishToUser('busy', 'vulnerability:found', { id: 'v' });
    expect(result.delivered).toBe(25);
    expect(endpoint.maxInFlight()).toBeLessThanOrEqual(PUBLISH_CONCURRENCY);
    expect(endpoint.maxInFlight()).toBeGreaterThan(1);
  });

  it('names every event of the feed', () => {
    expect(REALTIME_EVENTS).toEqual(['scan:started', 'scan:progress', 'vulnerability:found', 'scan:completed', 'scan:failed', 'fix:applied', 'pr:merged', 'pr:closed']);
  });
});
