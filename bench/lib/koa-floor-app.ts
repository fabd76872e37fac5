// The cold-path peer: a Koa app that only answers what Sluice answers for an allowed download
// (an empty 200 with X-Accel-Redirect and the download headers) with no authentication,
// policy, audit line or metrics. Same process model, same nginx config, same measurement: what
// is left of Sluice's CPU per request above this is what Sluice itself costs.
//   SLUICE_CONFIG=<the cold-path stack's config> node --import tsx bench/lib/koa-floor-app.ts
import { readFileSync } from 'node:fs';
import Koa from 'koa';

const config = JSON.parse(readFileSync(process.env.SLUICE_CONFIG as string, 'utf8')) as { appPort: number };
const app = new Koa();
app.use(async (ctx) => {
  if (ctx.path === '/healthz') {
    ctx.body = 'ok';
    return;
  }
  ctx.set({
    'Content-Type': 'application/octet-stream',
    'X-Content-Type-Options': 'nosniff',
    'Cache-Control': 'private, max-age=0',
    'X-Accel-Redirect': `/_sluice/fs/files/${ctx.path.slice('/files/files/'.length)}`,
  });
  ctx.status = 200;
  ctx.body = '';
});
const server = app.listen(config.appPort, '127.0.0.1');
server.keepAliveTimeout = 65_000;
process.on('SIGTERM', () => server.close(() => process.exit(0)));
