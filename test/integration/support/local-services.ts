import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LOCAL_REGION } from '../../../lib/local/config.ts';
import { startServices, type Services, type ServicesOptions } from '../../../lib/local/stack.ts';
import { EMULATORS_ENV, type SharedEmulators } from './emulators-file.ts';

export const REPO_ROOT = resolve(fileURLToPath(import.meta.url), '../../../..');
export const FIXTURE_HANDLERS = join(REPO_ROOT, 'test/fixtures/handlers');

/** The emulators started by the global set-up. */
export function sharedEmulators(): SharedEmulators {
  const file = process.env[EMULATORS_ENV];
  if (!file) throw new Error(`${EMULATORS_ENV} is not set: run through the integration project's global set-up`);
  return JSON.parse(readFileSync(file, 'utf8')) as SharedEmulators;
}

/** Gateway, workflow runner, poller and scheduler in the test process, on free ports, against the shared emulators. */
export async function startTestServices(options: Partial<ServicesOptions> = {}): Promise<Services> {
  const shared = sharedEmulators();
  return startServices({
    endpoints: shared.endpoints,
    provisioned: shared.provisioned,
    region: LOCAL_REGION,
    dataDir: shared.dataDir,
    root: REPO_ROOT,
    apiPort: 0,
    sfnPort: 0,
    retryDelaySeconds: 1,
    pollWaitSeconds: 1,
    retryIntervalMs: 10,
    background: false,
    ...options,
  });
}

/** Polls `check` until it returns a value, or fails after `timeoutMs`. */
export async function eventually<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs = 15_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`condition not met within ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, 100));
  }
}
