// The image stack shared by B5, B6 and B8: a 4K photo on an fs store, Sluice with transforms and
// its worker process, and (for B5) a separate small nginx running Debian's image_filter module on
// the same source — nginx's own answer to "make me a thumbnail".
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { startNginx, type NginxProcess } from '../../src/nginx/process.js';
import { freePort } from '../../test/helpers/ports.js';
import { startStack, type Stack } from '../../test/helpers/stack.js';
import { signImgproxyPath } from '../../test/helpers/worker.js';
import { writePhoto4k } from './fixtures.js';
import type { Context } from './types.js';

const KEY = '736563726574';
const SALT = '68656c6c6f';
export const PHOTO = 'photo-4k.jpg';
export const IMAGE_FILTER_MODULE = '/usr/lib/nginx/modules/ngx_http_image_filter_module.so';

export interface PhotoData {
  readonly root: string;
  readonly photo: string;
  readonly bytes: number;
}

export function photoData(ctx: Context): Promise<PhotoData> {
  return ctx.shared('photo', async () => {
    const root = path.join(ctx.workDir, 'images');
    await mkdir(root, { recursive: true });
    await chmod(ctx.workDir, 0o755);
    ctx.progress('writing a 4K JPEG');
    const photo = path.join(root, PHOTO);
    const bytes = ctx.profile.name === 'tiny' ? await writePhoto4k(photo, 640, 360) : await writePhoto4k(photo);
    return { root, photo, bytes };
  });
}

/** `/img/<signature>/<options>/plain/local:///<file>[@<ext>]` for this stack's key and salt. */
export function imgPath(options: string, file: string, ext?: string): string {
  return `/img${signImgproxyPath(`/${options}/plain/local:///${file}${ext === undefined ? '' : `@${ext}`}`, KEY, SALT)}`;
}

export async function startImageStack(
  root: string,
  worker: Record<string, unknown>,
  extraServerConfig?: string,
  transform: Record<string, unknown> = {},
): Promise<Stack> {
  return startStack(
    {
      stores: { photos: { type: 'fs', root } },
      transform: { enabled: true, keys: [KEY], salts: [SALT], localStore: 'photos', ...transform },
      // One load generator stands for many users: per-client limits lifted, so the scenarios
      // measure the worker rather than its per-client share and render budget.
      worker: {
        secret: 'bench-worker-secret-0123456789abcdef0123',
        clientConcurrency: os.availableParallelism(),
        renderBudget: { rendersPerSecond: 10_000, burst: 100_000 },
        ...worker,
      },
    },
    { worker: true, logLevel: 'warn', ...(extraServerConfig !== undefined && { extraServerConfig }) },
  );
}

export interface ImageFilterNginx {
  readonly port: number;
  readonly process: NginxProcess;
}

/** nginx + image_filter: `GET /thumb/<file>` → fit 400×300 JPEG (quality 80, like Sluice's default). */
export async function startImageFilterNginx(root: string, dir: string): Promise<ImageFilterNginx> {
  const runtime = path.join(dir, 'image-filter-nginx');
  await mkdir(path.join(runtime, 'logs'), { recursive: true });
  const port = await freePort();
  const conf = [
    `load_module ${IMAGE_FILTER_MODULE};`,
    'daemon off;', // stay our child, so stopping it stops nginx
    'master_process on;',
    ...(process.getuid?.() === 0 ? ['user root;'] : []),
    'worker_processes auto;',
    `pid ${path.join(runtime, 'nginx.pid')};`,
    `error_log ${path.join(runtime, 'logs', 'error.log')} warn;`,
    'events { worker_connections 1024; }',
    'http {',
    '    access_log off;',
    `    client_body_temp_path ${path.join(runtime, 'client_body')};`,
    `    proxy_temp_path ${path.join(runtime, 'proxy')};`,
    `    fastcgi_temp_path ${path.join(runtime, 'fastcgi')};`,
    `    uwsgi_temp_path ${path.join(runtime, 'uwsgi')};`,
    `    scgi_temp_path ${path.join(runtime, 'scgi')};`,
    '    server {',
    `        listen 127.0.0.1:${port};`,
    '        location /thumb/ {',
    `            alias "${root}/";`,
    '            image_filter resize 400 300;',
    '            image_filter_jpeg_quality 80;',
    '            image_filter_buffer 64M;',
    '        }',
    '    }',
    '}',
  ].join('\n');
  const confPath = path.join(runtime, 'nginx.conf');
  await writeFile(confPath, `${conf}\n`);
  return { port, process: await startNginx(confPath, runtime, { host: '127.0.0.1', port }) };
}
