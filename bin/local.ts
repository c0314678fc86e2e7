import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ConfigError, loadLocalConfig } from '../lib/local/config.ts';
import { JavaMissingError, PortInUseError } from '../lib/local/emulators.ts';
import { startLocalStack, type LocalStack } from '../lib/local/stack.ts';
import { websocket } from '../shared/platform/declarations.ts';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const log = (line: string): void => console.log(`[local] ${line}`);

async function main(): Promise<void> {
  const config = loadLocalConfig();
  log(`starting (data in ${config.dataDir})`);
  let stack: LocalStack;
  try {
    stack = await startLocalStack(config, root, log);
  } catch (error) {
    if (error instanceof JavaMissingError || error instanceof PortInUseError || error instanceof ConfigError) {
      console.error(`\n${error.message}\n`);
      process.exit(1);
    }
    throw error;
  }

  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    log(`${signal}: stopping`);
    stack
      .stop()
      .then(() => {
        log('stopped');
        process.exit(0);
      })
      .catch((error: unknown) => {
        console.error(error);
        process.exit(1);
      });
  };
  process.on('SIGINT', () => stop('SIGINT'));
  process.on('SIGTERM', () => stop('SIGTERM'));

  const api = `http://localhost:${stack.services.apiPort}`;
  const repoRoot = process.env.LOCAL_REPO_ROOT;
  console.log(
    [
      '',
      'CodeGuardian is running locally.',
      `  API        ${api}/api`,
      `  WebSocket  ws://localhost:${stack.services.apiPort}${websocket.path}?token=<jwt>`,
      `  Health     ${api}/api/health`,
      '',
      'Connect a repository:',
      repoRoot
        ? `  a local git folder under ${repoRoot}: POST ${api}/api/repositories/connect {"localPath": "<folder>"}`
        : '  a local git folder: set LOCAL_REPO_ROOT to the folder that holds it, restart, then\n' +
          `    POST ${api}/api/repositories/connect {"localPath": "<folder>"}`,
      '  a GitHub repository: set GITHUB_APP_ID, GITHUB_APP_PRIVATE_KEY and GITHUB_WEBHOOK_SECRET (docs/local.md),',
      `    install the app, then POST ${api}/api/repositories/connect {"fullName": "owner/name"}`,
      '',
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

main().catch((error: unknown) => {
  console.error(`Local stack failed to start: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
