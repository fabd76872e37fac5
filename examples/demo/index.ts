// The demo host app's public surface, for `sluice dev --demo`, the browser tests and main.ts.
export { createDemoApp, startDemoApp, type DemoOptions, type RunningDemo } from './app.js';
export { auditRow, createAuditFeed, type AuditRow, type AuditSource } from './audit-feed.js';
export {
  ownFiles,
  seedDemoStore,
  unicodeFileText,
  vaultFileContent,
  CLIP,
  PHOTOS,
  POSTER,
  STAFF_GALLERY,
  UNICODE_NAME,
  USERS,
  VAULT_FILES,
} from './catalog.js';
export {
  demoNginxLocations,
  demoSluiceConfig,
  DEMO_COOKIE,
  DEMO_RATE_LIMIT,
  DEMO_STORE,
  VAULT_STORE,
  type DemoConfigOptions,
  type DemoS3Store,
  type DemoSecrets,
} from './config.js';
export { seedVault } from './seed-vault.js';
