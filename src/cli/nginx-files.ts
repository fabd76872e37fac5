// Writes the rendered nginx files to a directory: the two includes, and optionally nginx.conf.
// Here rather than in nginx/ because the S3 origins come from the stores (nginx/ only renders).
import { copyFile, mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SluiceConfig } from '../config/schema.js';
import { s3Origin } from '../storage/s3-store.js';
import { renderFullConfig, renderHttpInclude, renderServerInclude, type RenderInput } from '../nginx/render.js';

export interface WrittenNginxConfig {
  readonly httpIncludePath: string;
  readonly serverIncludePath: string;
  /** Present when a full config was requested. */
  readonly fullConfigPath?: string;
  readonly runtimeDir?: string;
}

export interface WriteOptions {
  readonly outDir: string;
  readonly appAddress: string;
  /** Also write nginx.conf, with pid/temp files under runtimeDir. */
  readonly full?: {
    readonly runtimeDir: string;
    readonly user?: string;
    readonly accessLog?: string;
    readonly extraServerConfig?: string;
    /** A mime.types file: copied next to nginx.conf, which includes it (as operators' configs do). */
    readonly mimeTypesFile?: string;
  };
}

export async function renderInput(config: SluiceConfig, appAddress: string): Promise<RenderInput> {
  const s3Origins = new Map<string, string>();
  for (const [name, store] of Object.entries(config.stores)) {
    if (store.type === 's3') s3Origins.set(name, await s3Origin(store));
  }
  return { config, appAddress, s3Origins };
}

export async function writeNginxConfig(config: SluiceConfig, options: WriteOptions): Promise<WrittenNginxConfig> {
  const outDir = path.resolve(options.outDir);
  await mkdir(outDir, { recursive: true });
  const base = await renderInput(config, options.appAddress);
  // The full config (development, tests) keeps the decision cache and its audit log in its runtime directory.
  const input =
    options.full === undefined
      ? base
      : {
          ...base,
          decisionCachePaths: {
            path: path.join(path.resolve(options.full.runtimeDir), 'decision-cache'),
            auditLog: path.join(path.resolve(options.full.runtimeDir), 'sluice-audit.log'),
          },
        };
  const httpIncludePath = path.join(outDir, 'sluice-http.conf');
  const serverIncludePath = path.join(outDir, 'sluice-server.conf');
  await writeFile(httpIncludePath, renderHttpInclude(input));
  await writeFile(serverIncludePath, renderServerInclude(input));
  if (options.full === undefined) return { httpIncludePath, serverIncludePath };
  const runtimeDir = path.resolve(options.full.runtimeDir);
  // nginx creates only the last level of its temp paths.
  await mkdir(path.join(runtimeDir, 'tmp'), { recursive: true });
  const fullConfigPath = path.join(outDir, 'nginx.conf');
  const { mimeTypesFile, ...full } = options.full;
  // nginx resolves a relative include against the directory of the config file.
  if (mimeTypesFile !== undefined) await copyFile(mimeTypesFile, path.join(outDir, 'mime.types'));
  await writeFile(
    fullConfigPath,
    renderFullConfig({ ...input, ...full, runtimeDir, httpIncludePath, serverIncludePath, mimeTypes: mimeTypesFile !== undefined }),
  );
  return { httpIncludePath, serverIncludePath, fullConfigPath, runtimeDir };
}
