import { spawn, type ChildProcess } from 'node:child_process';
import { chmod, mkdtemp } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';

/** Real service processes for the tests of what crosses process boundaries (schedulers, workers, crashes). */
export interface ServiceProcess {
  child: ChildProcess;
  exited: Promise<number | null>;
  /** Where its API listens (PORT 0 lets the OS choose): read from its «listening» log line. */
  url: Promise<string>;
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

export async function tempDataDir(): Promise<string> {
  const dir = await mkdtemp(path.join(os.tmpdir(), 'jb-proc-'));
  await chmod(dir, 0o755);
  return dir;
}

export function startServiceProcess(env: Record<string, string>, args: string[] = ['start']): ServiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'info', DEMO: 'off', PORT: '0', ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  const url = listeningUrl(child, exited);
  url.catch(() => undefined); // a worker-only process never listens: only a caller that waits for the URL hears of it
  return {
    child,
    exited,
    url,
    stop: async (signal = 'SIGTERM') => {
      if (child.exitCode === null && child.signalCode === null) child.kill(signal);
      return exited;
    },
  };
}

/** The URL of the process's «journal bridge is listening» log line (its stdout is JSON lines; the rest is dropped). */
export function listeningUrl(child: ChildProcess, exited: Promise<unknown>): Promise<string> {
  return new Promise((resolve, reject) => {
    let buffered = '';
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
      buffered += chunk;
      const lines = buffered.split('\n');
      buffered = lines.pop() ?? '';
      for (const line of lines) {
        const url = /"url":"(http:\/\/[^"]+)"/.exec(line)?.[1];
        if (url && line.includes('listening')) resolve(url);
      }
    });
    void exited.then(() => reject(new Error('the process exited before it listened')));
  });
}

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined>, ms: number, everyMs = 250): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe().catch(() => undefined);
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

export interface CliOutcome {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** One command of the command line in a process of its own (`src/cli.ts <args>`), with only `env` and PATH/HOME. */
export function runCli(args: string[], env: Record<string, string>): Promise<CliOutcome> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    env: { PATH: process.env.PATH, HOME: process.env.HOME, LOG_LEVEL: 'error', ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (c: string) => (stdout += c));
  child.stderr!.setEncoding('utf8').on('data', (c: string) => (stderr += c));
  return new Promise((resolve) => child.once('close', (code) => resolve({ code, stdout, stderr })));
}
