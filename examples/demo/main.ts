// Runs the demo host app on its own (docker-compose's `demo` service; `sluice dev --demo`
// starts it in-process instead). Settings from the environment:
//   SLUICE_JWT_SECRET (shared with Sluice), DEMO_IMGPROXY_KEY/SALT (hex, as transform.keys/salts),
//   DEMO_SLUICE_URL (what browsers use), DEMO_SLUICE_API (server to server), DEMO_PORT, DEMO_HOST,
//   DEMO_STORE (store name), DEMO_IMAGE_SOURCE (imgproxy source prefix, e.g. s3://media/),
//   DEMO_SEED_S3 (endpoint: upload the demo files to DEMO_BUCKET first; AWS_* credentials).
import { startDemoApp } from './app.js';
import { seedDemoBucket } from './seed-s3.js';

function required(name: string): string {
  const value = process.env[name];
  if (value === undefined || value === '') {
    process.stderr.write(`demo: ${name} is required\n`);
    process.exit(1);
  }
  return value;
}

const env = process.env;
if (env.DEMO_SEED_S3 !== undefined) await seedDemoBucket(env.DEMO_SEED_S3, env.DEMO_BUCKET ?? 'media');
const demo = await startDemoApp({
  secrets: { jwtSecret: required('SLUICE_JWT_SECRET'), imgproxyKey: required('DEMO_IMGPROXY_KEY'), imgproxySalt: required('DEMO_IMGPROXY_SALT') },
  sluiceUrl: env.DEMO_SLUICE_URL ?? '',
  sluiceApi: required('DEMO_SLUICE_API'),
  host: env.DEMO_HOST ?? '127.0.0.1',
  port: Number(env.DEMO_PORT ?? 8081),
  ...(env.DEMO_STORE === undefined ? {} : { store: env.DEMO_STORE }),
  ...(env.DEMO_IMAGE_SOURCE === undefined ? {} : { imageSource: env.DEMO_IMAGE_SOURCE }),
});
process.stdout.write(`Sluice demo host app on ${demo.url}\n`);
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void demo.close().then(() => process.exit(0)));
