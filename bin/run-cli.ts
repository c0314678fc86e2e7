/** Runs the command line in this process: the entry of the bundled CLI, and of bin/codeguardian.ts without it. */
import { runCli } from '../shared/analysis/cli.ts';

process.exitCode = await runCli(process.argv.slice(2), {
  stdout: process.stdout,
  stderr: process.stderr,
  cwd: process.cwd(),
  stdoutIsTTY: process.stdout.isTTY,
  stderrIsTTY: process.stderr.isTTY,
  env: process.env,
});
