// The mime.types of the installed nginx (found through its compiled-in --conf-path), for tests
// that must run nginx the way operators do: with `include mime.types;` in the http block.
import { execFile } from 'node:child_process';
import { access } from 'node:fs/promises';
import path from 'node:path';
import { promisify } from 'node:util';
import { nginxBinary } from '../../src/nginx/process.js';

const execFileAsync = promisify(execFile);

export async function installedMimeTypes(): Promise<string> {
  // `nginx -V` prints its build options on stderr.
  const { stderr } = await execFileAsync(nginxBinary(), ['-V']);
  const confPath = /--conf-path=(\S+)/.exec(stderr)?.[1];
  if (confPath === undefined) throw new Error(`nginx -V names no --conf-path:\n${stderr}`);
  const file = path.join(path.dirname(confPath), 'mime.types');
  await access(file);
  return file;
}
