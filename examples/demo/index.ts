// The demo host app's public surface, for `sluice dev --demo`, the browser tests and main.ts.
export { createDemoApp, startDemoApp, type DemoOptions, type RunningDemo } from './app.js';
export { ownFiles, seedDemoStore, unicodeFileText, CLIP, PHOTOS, STAFF_GALLERY, UNICODE_NAME, USERS } from './catalog.js';
export { demoNginxLocations, demoSluiceConfig, DEMO_COOKIE, DEMO_STORE, type DemoSecrets } from './config.js';
