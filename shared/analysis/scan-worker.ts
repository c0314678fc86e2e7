/** A worker thread of `scanDirectoryParallel`: scans the files of each batch it is sent. */
import { createScanHandler, type ScanWorkerData } from './scan-handler.ts';
import type { FileOutcome } from './scanner.ts';
import { poolWorkerData, serveBatches } from './worker-pool.ts';

export type { ScanWorkerData } from './scan-handler.ts';

serveBatches<FileOutcome>(createScanHandler(poolWorkerData<ScanWorkerData>()));
