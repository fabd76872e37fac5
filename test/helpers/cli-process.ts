// Runs the `sluice` command as an operator would: a real child process whose output is collected.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export interface SluiceProcess {
  readonly child: ChildProcess;
  /** Everything written to stdout and stderr so far. */
  output(): string;
  /** Resolves with the exit code (null after a signal), whenever the process ends. */
  readonly exited: Promise<number | null>;
  /** Waits until the output matches, the process exits, or the timeout passes; returns the output. */
  waitFor(pattern: RegExp, timeoutMs: number): Promise<string>;
}

/**
 * `inputs[i]` is written to file descriptor 3 + i of the child (a pipe, closed after writing):
 * how a master password reaches `--password-file /dev/fd/3` without ever being a file.
 */
export function spawnSluice(args: readonly string[], env: Record<string, string | undefined>, inputs: readonly string[] = []): SluiceProcess {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(REPO_ROOT, 'src/cli/main.ts'), ...args], {
    cwd: REPO_ROOT,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', 'pipe', 'pipe', ...inputs.map(() => 'pipe' as const)],
  });
  feedDescriptors(child, inputs);
  let output = '';
  child.stdout?.on('data', (c: Buffer) => (output += c.toString()));
  child.stderr?.on('data', (c: Buffer) => (output += c.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => output,
    exited,
    async waitFor(pattern, timeoutMs) {
      const deadline = Date.now() + timeoutMs;
      while (!pattern.test(output) && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 100));
      return output;
    },
  };
}

/** Writes `inputs[i]` to the child's fd 3 + i (spawned with 'pipe' there) and closes it. */
export function feedDescriptors(child: ChildProcess, inputs: readonly string[]): void {
  inputs.forEach((input, i) => {
    const stream = child.stdio[3 + i] as NodeJS.WritableStream;
    stream.on('error', () => undefined); // the child may exit without reading
    stream.end(input);
  });
}
