/** Child-process measurement: wall time and peak resident memory of a command. */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

export interface Measured {
  readonly wallMs: number;
  /** Peak RSS in MiB, from GNU time when available. */
  readonly maxRssMb: number | undefined;
  /** User plus system CPU time in ms, from GNU time when available: steadier than wall time on a busy machine. */
  readonly cpuMs: number | undefined;
  readonly exitCode: number;
  readonly stdout: string;
  readonly stderr: string;
}

const GNU_TIME = '/usr/bin/time';

/** Runs `command` and measures it. GNU time wraps it when installed so the child's peak RSS is known. */
export function measure(command: string, args: readonly string[], options: { cwd?: string } = {}): Promise<Measured> {
  const useTime = existsSync(GNU_TIME);
  const [bin, argv] = useTime ? [GNU_TIME, ['-f', 'GNU-TIME-MAXRSS-KB=%M CPU-S=%U+%S', command, ...args]] : [command, [...args]];
  const started = performance.now();
  return new Promise((resolve, reject) => {
    const child = spawn(bin, argv, { cwd: options.cwd, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
    child.stderr.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
    child.on('error', reject);
    child.on('close', (code) => {
      const wallMs = performance.now() - started;
      const rss = /GNU-TIME-MAXRSS-KB=(\d+) CPU-S=([\d.]+)\+([\d.]+)/.exec(stderr);
      resolve({
        wallMs,
        maxRssMb: rss ? Number(rss[1]) / 1024 : undefined,
        cpuMs: rss ? (Number(rss[2]) + Number(rss[3])) * 1000 : undefined,
        exitCode: code ?? 1,
        stdout,
        stderr: stderr.replace(/GNU-TIME-MAXRSS-KB=\d+ CPU-S=\S+\n?/, ''),
      });
    });
  });
}

/** Whether an executable is on the PATH. */
export async function hasCommand(name: string): Promise<boolean> {
  try {
    const result = await measure('sh', ['-c', `command -v ${name}`]);
    return result.exitCode === 0;
  } catch {
    return false;
  }
}
