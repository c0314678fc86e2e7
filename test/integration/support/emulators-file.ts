import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Endpoints } from '../../../lib/local/emulators.ts';
import type { Provisioned } from '../../../lib/local/provision.ts';

/** What the global set-up hands to the test files: the running emulators and the resources it created. */
export interface SharedEmulators {
  readonly endpoints: Endpoints;
  readonly provisioned: Provisioned;
  readonly dataDir: string;
  readonly dynamodbPid: number;
}

export const EMULATORS_ENV = 'CODEGUARDIAN_TEST_EMULATORS';

/** One file per jest run (keyed by the runner's pid), read by the workers. */
export function emulatorsFile(pid: number = process.pid): string {
  return join(tmpdir(), `codeguardian-emulators-${pid}.json`);
}
