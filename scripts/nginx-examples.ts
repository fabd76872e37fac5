// Renders the example nginx files committed under nginx/ from their example Sluice configs,
// with Sluice's own renderer. `npm run nginx:examples` rewrites them; a unit test fails when
// the committed files and the renderer disagree.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadConfig } from '../src/config/load.js';
import { renderFullConfig, renderHttpInclude, renderServerInclude } from '../src/nginx/render.js';
import { renderProtectedLocation } from '../src/nginx/render-auth-request.js';
import { renderInput } from '../src/cli/nginx-files.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

interface Example {
  readonly config: string;
  readonly outDir: string;
  readonly appAddress: string;
  /** Where the includes live on the target machine (used by the full config). */
  readonly includeDir: string;
  readonly runtimeDir: string;
}

const EXAMPLES: readonly Example[] = [
  {
    config: 'nginx/examples/sluice.example.yaml',
    outDir: 'nginx/examples',
    appAddress: '127.0.0.1:3000',
    includeDir: '/etc/nginx/sluice',
    runtimeDir: '/var/lib/sluice/nginx',
  },
  { config: 'deploy/sluice.compose.yaml', outDir: 'nginx/compose', appAddress: 'app:3000', includeDir: '/etc/nginx/sluice', runtimeDir: '/tmp/nginx' },
];

/** Relative output path → file content. */
export async function renderExamples(): Promise<Map<string, string>> {
  const files = new Map<string, string>();
  for (const example of EXAMPLES) {
    const config = loadConfig({ env: {}, file: path.join(repo, example.config) });
    const input = await renderInput(config, example.appAddress);
    files.set(path.join(example.outDir, 'sluice-http.conf'), renderHttpInclude(input));
    files.set(path.join(example.outDir, 'sluice-server.conf'), renderServerInclude(input));
    files.set(
      path.join(example.outDir, 'nginx.conf'),
      renderFullConfig({
        ...input,
        runtimeDir: example.runtimeDir,
        httpIncludePath: `${example.includeDir}/sluice-http.conf`,
        serverIncludePath: `${example.includeDir}/sluice-server.conf`,
      }),
    );
    // The operator's own location for each auth_request prefix (what docs/sharing.md shows).
    for (const [prefix, store] of Object.entries(config.sharing.authRequest.locations)) {
      const target = config.stores[store];
      if (target?.type !== 'fs') continue;
      const location = renderProtectedLocation({ path: prefix, root: target.root, internalPrefix: config.nginx.internalPrefix });
      files.set(
        path.join(example.outDir, 'protected-location.conf'),
        `# Generated like the files beside it; your own location, inside server {}.\n${location}\n`,
      );
    }
  }
  return files;
}

export const REPO_ROOT = repo;

if (process.argv[1] !== undefined && fileURLToPath(import.meta.url) === path.resolve(process.argv[1])) {
  for (const [file, content] of await renderExamples()) {
    await writeFile(path.join(repo, file), content);
    process.stdout.write(`wrote ${file}\n`);
  }
}
