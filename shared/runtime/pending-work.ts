import { notImplemented } from '../http/errors.ts';

// Declared platform work whose domain logic is not built yet. Each throws NotImplementedError (NOT_IMPLEMENTED),
// so a workflow run ends `failed` with this reason and a queue message is retried and dead-lettered instead of
// being reported as done.

export const pendingScanStep = (step: string): never => notImplemented(`The scan step "${step}"`);
export const pendingFixStep = (step: string): never => notImplemented(`The fix step "${step}"`);
export const pendingJob = (job: string): never => notImplemented(`The job "${job}"`);
