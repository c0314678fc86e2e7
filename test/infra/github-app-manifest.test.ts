import { describe, expect, test } from '@jest/globals';
import { readFileSync } from 'node:fs';
import { REPO_ROOT } from '../../esbuild.config.ts';

const manifest = JSON.parse(readFileSync(`${REPO_ROOT}/github-app-manifest.json`, 'utf8')) as {
  default_permissions: Record<string, string>;
  default_events: string[];
  hook_attributes: { url: string; active: boolean };
  public: boolean;
};

describe('GitHub App manifest', () => {
  test('asks for exactly the least privilege the platform uses', () => {
    // contents write: fix branches and commits through the Git Data API; pull_requests write: fix PRs;
    // checks write: check runs with annotations on pull requests; metadata read: required by GitHub.
    expect(manifest.default_permissions).toEqual({ contents: 'write', pull_requests: 'write', checks: 'write', metadata: 'read' });
  });

  test('subscribes to push and pull_request (installation events are always delivered to apps)', () => {
    expect([...manifest.default_events].sort()).toEqual(['pull_request', 'push']);
  });

  test('points the webhook at a placeholder for the WebhookUrl output, active, over https', () => {
    expect(manifest.hook_attributes.active).toBe(true);
    expect(manifest.hook_attributes.url).toMatch(/^https:\/\/REPLACE-WITH-WebhookUrl-OUTPUT\..*\/webhooks\/github$/);
    expect(manifest.public).toBe(false);
  });
});
