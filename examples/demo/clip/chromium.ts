// Debian's Chromium, headless, driven by playwright-core (never a downloaded browser).
import { chromium, type BrowserContext } from 'playwright-core';

export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-background-networking',
  '--no-first-run',
  '--disable-component-update',
  '--disable-sync',
];

export interface Chromium {
  /** A fresh, isolated context (own cookies), with downloads enabled. */
  newContext(): Promise<BrowserContext>;
  close(): Promise<void>;
}

/** playwright gives every launch a fresh temporary user-data-dir and removes it on close. */
export async function launchChromium(): Promise<Chromium> {
  const browser = await chromium.launch({ executablePath: CHROMIUM_PATH, args: CHROMIUM_ARGS });
  return {
    newContext: () => browser.newContext({ acceptDownloads: true }),
    close: () => browser.close(),
  };
}
