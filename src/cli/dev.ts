// `sluice dev` (what `npm start` runs): the embedded default. nginx + the app on 127.0.0.1 with
// an fs store under ./data seeded with sample files, and a ready line with a working curl.
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { Command } from 'commander';
import { mintToken } from '../auth/mint.js';
import { loadConfig } from '../config/load.js';
import { startNginx } from '../nginx/process.js';
import { writeNginxConfig } from '../nginx/write.js';
import { startSluice } from '../server.js';
import { seedDemoFiles } from './dev-seed.js';
import { onShutdownSignal } from './signals.js';

export function devCommand(): Command {
  return new Command('dev')
    .description('start nginx + Sluice locally with a seeded fs store under ./data (the embedded default)')
    .option('--data <dir>', 'data directory', 'data')
    .option('--state <dir>', 'generated nginx config, pid and the development secret', '.sluice')
    .action(async (options: { data: string; state: string }) => {
      const dataDir = path.resolve(options.data);
      const stateDir = path.resolve(options.state);
      const secret = process.env.SLUICE_JWT_SECRET ?? (await devSecret(stateDir));
      const config = loadConfig({
        defaults: {
          appPort: 0,
          stores: { demo: { type: 'fs', root: path.join(dataDir, 'demo') } },
          auth: { keys: [{ algorithms: ['HS256'], secret }] },
          // Development rule: any holder of a valid token may read the demo store.
          rules: [{ id: 'dev-authenticated', store: 'demo', key: '*path', when: [{ authenticated: true }] }],
        },
      });
      const demoRoot = config.stores.demo?.type === 'fs' ? config.stores.demo.root : undefined;
      const samples = demoRoot !== undefined ? await seedDemoFiles(demoRoot) : [];

      const app = await startSluice(config);
      const nginxFiles = await writeNginxConfig(config, {
        outDir: path.join(stateDir, 'nginx'),
        appAddress: app.address,
        full: { runtimeDir: path.join(stateDir, 'nginx', 'run'), user: workerUser() },
      });
      const nginx = await startNginx(nginxFiles.fullConfigPath as string, nginxFiles.runtimeDir as string, {
        host: config.host,
        port: config.port,
      }).catch(async (error: unknown) => {
        await app.close();
        throw error;
      });
      let stopping = false;
      onShutdownSignal(async () => {
        stopping = true;
        await nginx.stop();
        await app.close();
      });
      void nginx.exited.then(async (code) => {
        if (stopping) return;
        process.stderr.write(`sluice: nginx exited (code ${String(code)}):\n${nginx.stderr()}\n`);
        await app.close();
        process.exit(1);
      });

      const token = await mintToken({ secret, sub: 'dev', ttlSeconds: 24 * 3600 });
      const base = `http://${config.host}:${config.port}${config.prefix}/demo`;
      const sample = samples[0] ?? 'hello.txt';
      process.stdout.write(
        [
          '',
          `Sluice is ready on http://${config.host}:${config.port} (nginx) → app ${app.address}; store "demo" = ${demoRoot ?? '(configured)'}`,
          'Download a file with a development token (valid 24 h):',
          `  curl -fsS -H 'Authorization: Bearer ${token}' '${base}/${encodeURIComponent(sample)}'`,
          `Other samples: ${samples.map((s) => `${base}/${encodeURIComponent(s)}`).join('  ')}`,
          `Mint another token: SLUICE_JWT_SECRET=$(cat ${path.relative(process.cwd(), path.join(stateDir, 'dev-jwt-secret'))}) npm run sluice -- token --sub alice   ·   Stop: Ctrl-C`,
          '',
        ].join('\n'),
      );
    });
}

/** A per-checkout random secret, so development tokens survive restarts but are never shared. */
async function devSecret(stateDir: string): Promise<string> {
  const file = path.join(stateDir, 'dev-jwt-secret');
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch {
    const secret = randomBytes(32).toString('hex');
    await mkdir(stateDir, { recursive: true });
    await writeFile(file, `${secret}\n`, { mode: 0o600 });
    return secret;
  }
}

/** nginx workers run as "nobody" under a root master; keep the caller's user so ./data is readable. */
function workerUser(): string | undefined {
  return process.getuid?.() === 0 ? os.userInfo().username : undefined;
}
