import { rmSync } from 'node:fs';

/** Stops the emulators of the global set-up and removes their data. */
export default async function globalTeardown(): Promise<void> {
  const shared = globalThis.codeguardianEmulators;
  if (!shared) return;
  globalThis.codeguardianEmulators = undefined;
  await shared.emulators.stop();
  rmSync(shared.file, { force: true });
  rmSync(shared.dataDir, { recursive: true, force: true });
}
