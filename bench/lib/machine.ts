// The machine a run happened on, for the report: results only compare within one machine.
import { execFile } from 'node:child_process';
import os from 'node:os';
import { promisify } from 'node:util';
import { nginxBinary } from '../../src/nginx/process.js';

const execFileAsync = promisify(execFile);

export interface Machine {
  readonly cpus: number;
  readonly cpuModel: string;
  readonly memoryGiB: number;
  readonly kernel: string;
  readonly node: string;
  readonly nginx: string;
  readonly libvips: string;
  readonly wrk: string;
  readonly curl: string;
}

async function versionOf(command: string, args: string[], pattern: RegExp): Promise<string> {
  try {
    const { stdout, stderr } = await execFileAsync(command, args, { timeout: 5000 });
    return pattern.exec(`${stdout}\n${stderr}`)?.[1] ?? 'unknown';
  } catch (error) {
    // wrk -v exits non-zero but still prints its version.
    const { stdout = '', stderr = '' } = error as { stdout?: string; stderr?: string };
    return pattern.exec(`${stdout}\n${stderr}`)?.[1] ?? 'not installed';
  }
}

export async function describeMachine(): Promise<Machine> {
  return {
    cpus: os.availableParallelism(),
    cpuModel: os.cpus()[0]?.model ?? 'unknown',
    memoryGiB: Math.round((os.totalmem() / 2 ** 30) * 10) / 10,
    kernel: `${os.type()} ${os.release()}`,
    node: process.version,
    nginx: await versionOf(nginxBinary(), ['-v'], /nginx\/(\S+)/),
    libvips: await versionOf('vipsthumbnail', ['--vips-version'], /libvips (\S+)/),
    wrk: await versionOf('wrk', ['-v'], /wrk (\S+)/),
    curl: await versionOf('curl', ['--version'], /curl (\S+)/),
  };
}
