import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { Template } from 'aws-cdk-lib/assertions';
import type { Services } from '../../lib/local/stack.ts';
import { routes } from '../../shared/platform/declarations.ts';
import { buildPlatform } from '../infra/platform-fixture.ts';
import { FIXTURE_HANDLERS, startTestServices } from './support/local-services.ts';

describe('routes of the CDK ApiStack and of the local gateway', () => {
  let services: Services;
  let deployed: string[];

  beforeAll(async () => {
    const { platform } = buildPlatform();
    const template = Template.fromStack(platform.api);
    deployed = Object.values(template.findResources('AWS::ApiGatewayV2::Route')).map(
      (r) => (r as { Properties: { RouteKey: string } }).Properties.RouteKey,
    );
    // Every declared entry answers with its event's route key, so the test sees which route the gateway chose.
    const echo = Object.fromEntries(routes.map((r) => [r.entry, `${FIXTURE_HANDLERS}/echo-route.ts`]));
    services = await startTestServices({ handlerOverrides: echo });
  }, 120_000);
  afterAll(async () => {
    await services?.stop();
  });

  it('deploys exactly the declared routes', () => {
    expect(deployed.length).toBeGreaterThan(0);
    expect([...deployed].sort()).toEqual(routes.map((r) => `${r.method} ${r.path}`).sort());
  });

  it('serves every deployed route locally, on the same route key', async () => {
    for (const routeKey of deployed) {
      const [method, path] = routeKey.split(' ') as [string, string];
      const concrete = path.replace(/\{[^}]+\}/g, 'sample-id');
      const res = await fetch(`http://127.0.0.1:${services.apiPort}${concrete}`, {
        method,
        ...(method === 'GET' || method === 'DELETE' ? {} : { body: '{}', headers: { 'content-type': 'application/json' } }),
      });
      expect({ routeKey, status: res.status }).toEqual({ routeKey, status: 200 });
      expect(res.headers.get('x-route-key')).toBe(routeKey);
    }
  });
});
