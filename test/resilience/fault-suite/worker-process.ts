/**
 * A gateway worker in a child process, started as operators start it (`lianban worker`,
 * the CLI entry run by Node.js with the tsx loader), so that the suite can kill it with
 * SIGKILL in the middle of department calls. The worker writes its log lines to a file.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createWriteStream, type WriteStream } from 'node:fs';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const READY_MESSAGE = '"msg":"workers started"';
const START_TIMEOUT_MS = 60_000;
const STOP_TIMEOUT_MS = 20_000;

export interface WorkerProcess {
  readonly pid: number;
  /** Sends a signal and waits until the process has exited. */
  stop(signal: 'SIGKILL' | 'SIGTERM'): Promise<void>;
}

/**
 * Starts `src/cli/main.ts worker` with `env` and resolves once the worker logged that its
 * workers started. tsx runs in the same process through `--import`, so the pid is the
 * worker's own and SIGKILL leaves no orphaned child behind.
 */
export async function startWorkerProcess(
  env: Record<string, string>,
  logFile: string,
): Promise<WorkerProcess> {
  const log = createWriteStream(logFile, { flags: 'a' });
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli/main.ts', 'worker'], {
    cwd: REPO_ROOT,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  // A test process that ends without stop() must not leave a worker running against a dead Redis.
  const killOnExit = (): void => void child.kill('SIGKILL');
  process.once('exit', killOnExit);
  void exited.then(() => process.off('exit', killOnExit));
  await waitUntilReady(child, log, exited);

  return {
    pid: child.pid as number,
    async stop(signal) {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
        const timer = setTimeout(() => child.kill('SIGKILL'), STOP_TIMEOUT_MS);
        await exited;
        clearTimeout(timer);
      }
      await new Promise<void>((resolve) => log.end(resolve));
    },
  };
}

function waitUntilReady(child: ChildProcess, log: WriteStream, exited: Promise<void>): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    let seen = '';
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`the worker process did not start within ${START_TIMEOUT_MS} ms`));
    }, START_TIMEOUT_MS);
    const onOutput = (chunk: Buffer): void => {
      log.write(chunk);
      if (seen === 'ready') return;
      seen = (seen + chunk.toString('utf8')).slice(-4_096);
      if (!seen.includes(READY_MESSAGE)) return;
      seen = 'ready';
      clearTimeout(timer);
      resolve();
    };
    child.stdout?.on('data', onOutput);
    child.stderr?.on('data', onOutput);
    void exited.then(() => {
      clearTimeout(timer);
      reject(new Error(`the worker process exited before it started (code ${String(child.exitCode)})`));
    });
  });
}
