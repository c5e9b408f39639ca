// Browser tests drive Debian's Chromium (/usr/bin/chromium) with playwright-core: no browser is
// downloaded, nothing leaves 127.0.0.1. Where Chromium is missing the browser tests are skipped
// with a loud warning, unless REQUIRE_BROWSER is set (CI sets it), in which case they fail.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from 'playwright-core';

const CANDIDATES = [process.env.CHROMIUM_PATH, '/usr/bin/chromium', '/usr/bin/chromium-browser'];

/** The path of a Chromium executable, or undefined when none is installed. */
export function findChromium(): string | undefined {
  for (const candidate of CANDIDATES) {
    if (!candidate) continue;
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return candidate;
    } catch {
      // not this one
    }
  }
  return undefined;
}

const browserRequired = Boolean(process.env.REQUIRE_BROWSER);

/**
 * True when browser tests must be skipped: no Chromium and REQUIRE_BROWSER unset.
 * Use as `describe.skipIf(skipBrowserTests)(...)`.
 */
export const skipBrowserTests: boolean = !findChromium() && !browserRequired;

if (skipBrowserTests) {
  console.warn(
    '\n!!! Browser tests SKIPPED: Chromium is not installed at /usr/bin/chromium (apt-get install chromium).' +
      ' Set REQUIRE_BROWSER=1 to make this a failure. !!!\n',
  );
}

export async function launchBrowser(): Promise<Browser> {
  const executablePath = findChromium();
  if (!executablePath) {
    throw new Error('Chromium is required (REQUIRE_BROWSER is set) but /usr/bin/chromium is missing: apt-get install chromium');
  }
  return chromium.launch({
    executablePath,
    args: [
      '--headless',
      '--no-sandbox', // tests run as root in CI, where Chromium's sandbox cannot start
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
    ],
  });
}

/** Context options for the "works without JavaScript" checks. */
export const javaScriptDisabled: BrowserContextOptions = { javaScriptEnabled: false };

/**
 * A fresh context (cookies, storage) for one test; close it at the end of the test. The page's
 * Content-Security-Policy is bypassed only so that axe-core can be injected as an inline script.
 */
export async function newContext(browser: Browser, options: BrowserContextOptions = {}): Promise<BrowserContext> {
  return browser.newContext({ locale: 'fr-FR', bypassCSP: true, ...options });
}

export interface AxeViolation {
  id: string;
  impact: string;
  help: string;
  nodes: string[];
}

const axeSource = (() => {
  let source: string | undefined;
  return () => {
    source ??= fs.readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');
    return source;
  };
})();

/**
 * Runs axe-core in the page and returns the serious and critical violations (an empty list means
 * the page passes). Needs JavaScript enabled in the page (axe is injected as a script).
 */
export async function checkAccessibility(page: Page): Promise<AxeViolation[]> {
  await page.addScriptTag({ content: axeSource() });
  const violations = await page.evaluate(async () => {
    const axe = (globalThis as any).axe;
    if (!axe) throw new Error('axe-core did not load: is JavaScript disabled in this context?');
    const result = await axe.run(document, { resultTypes: ['violations'] });
    return (result.violations as any[]).map((v) => ({
      id: String(v.id),
      impact: String(v.impact ?? ''),
      help: String(v.help),
      nodes: (v.nodes as any[]).slice(0, 5).map((n) => String(n.html).slice(0, 200)),
    }));
  });
  return violations.filter((v) => v.impact === 'serious' || v.impact === 'critical');
}

/**
 * Records every request the page makes to an origin other than `origin` (the instance under test).
 * Call before navigating; read the returned array at the end. data: and blob: URLs are local.
 */
export function recordForeignRequests(page: Page, origin: string): string[] {
  const foreign: string[] = [];
  const own = new URL(origin).origin;
  page.on('request', (request) => {
    const url = request.url();
    if (url.startsWith('data:') || url.startsWith('blob:') || url.startsWith('about:')) return;
    if (new URL(url).origin !== own) foreign.push(url);
  });
  return foreign;
}

/** Sign in through the real login form, as a person would; the page ends on where login sent it. */
export async function signIn(page: Page, baseUrl: string, email: string, password: string): Promise<void> {
  await page.goto(`${baseUrl}/login`);
  await page.locator('input[name=email]').fill(email);
  await page.locator('input[name=password]').fill(password);
  await Promise.all([page.waitForURL((url) => url.pathname !== '/login'), page.locator('main form [type=submit]').first().click()]);
}
