import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LOCAL_BUCKET, LOCAL_REGION, LOCAL_TABLE } from '../../lib/local/config.ts';
import { freePort, startEmulators, type Emulators } from '../../lib/local/emulators.ts';
import { provision } from '../../lib/local/provision.ts';
import { EMULATORS_ENV, emulatorsFile, type SharedEmulators } from './support/emulators-file.ts';

declare global {
  var codeguardianEmulators: { emulators: Emulators; file: string; dataDir: string } | undefined;
}

/** Starts DynamoDB Local, s3rver and local SQS once for the whole integration project, on free ports. */
export default async function globalSetup(): Promise<void> {
  const dataDir = mkdtempSync(join(tmpdir(), 'codeguardian-it-'));
  const emulators = await startEmulators({
    dataDir,
    dynamodbInMemory: true,
    ports: { dynamodb: await freePort(), s3: await freePort(), sqs: await freePort() },
  });
  try {
    const provisioned = await provision(emulators.endpoints, { region: LOCAL_REGION, tableName: LOCAL_TABLE, bucketName: LOCAL_BUCKET });
    const shared: SharedEmulators = { endpoints: emulators.endpoints, provisioned, dataDir, dynamodbPid: emulators.dynamodbPid };
    const file = emulatorsFile();
    writeFileSync(file, JSON.stringify(shared));
    // Workers inherit the runner's environment.
    process.env[EMULATORS_ENV] = file;
    globalThis.codeguardianEmulators = { emulators, file, dataDir };
  } catch (error) {
    await emulators.stop();
    throw error;
  }
}
