/**
 * Headless Chromium for the console tests: Debian's `chromium` driven by
 * playwright-core (no browser download), every request that would leave
 * loopback refused and recorded (as with no internet), CSP violations and
 * page errors collected, axe-core run from node_modules, screenshots written
 * to test/console/screenshots/.
 */
import { afterAll, beforeAll, expect } from "bun:test";
import { mkdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { type Browser, type BrowserContext, type BrowserContextOptions, chromium, type Page } from "playwright-core";
import { trioStack, type TrioOptions, type TrioStack } from "@riskinmind/testkit";

export const CHROMIUM = "/usr/bin/chromium";
export const SHOTS = join(import.meta.dir, "screenshots");
const AXE = readFileSync(Bun.resolveSync("axe-core/axe.min.js", import.meta.dir), "utf8");

/** A test file's real services and browser: started before its tests, closed after them (browser first). */
export function useConsoleStack(opts: TrioOptions): { readonly stack: TrioStack; readonly browser: Browser } {
  const env = {} as { stack: TrioStack; browser: Browser };
  beforeAll(async () => {
    env.stack = await trioStack(opts);
    env.browser = await launch();
  });
  afterAll(async () => {
    await env.browser?.close();
    await env.stack?.close();
  });
  return env;
}

export function launch(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update"],
  });
}

const isLoopback = (url: string) => {
  const u = new URL(url);
  if (["data:", "blob:", "about:"].includes(u.protocol)) return true;
  return u.hostname === "127.0.0.1" || u.hostname === "localhost" || u.hostname === "[::1]";
};

export interface Watched {
  context: BrowserContext;
  page: Page;
  /** Requests that tried to leave loopback (refused). */
  external: string[];
  cspViolations: string[];
  pageErrors: string[];
  /** What must be empty at the end of every test: nothing from outside, no CSP violation, no uncaught error. */
  expectClean(): void;
}

export async function openPage(browser: Browser, options: BrowserContextOptions = {}): Promise<Watched> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, ...options });
  const external: string[] = [];
  await context.route("**/*", (route) => {
    const url = route.request().url();
    if (isLoopback(url)) return route.continue();
    external.push(url);
    return route.abort("internetdisconnected");
  });
  const page = await context.newPage();
  const cspViolations: string[] = [];
  const pageErrors: string[] = [];
  page.on("pageerror", (e) => pageErrors.push(e.message));
  await page.exposeFunction("__reportCsp", (v: string) => cspViolations.push(v));
  await page.addInitScript({
    content: `document.addEventListener("securitypolicyviolation", (e) => window.__reportCsp(e.violatedDirective + " blocked " + (e.blockedURI || "inline")));`,
  });
  return {
    context,
    page,
    external,
    cspViolations,
    pageErrors,
    expectClean() {
      expect(external).toEqual([]);
      expect(cspViolations).toEqual([]);
      expect(pageErrors).toEqual([]);
    },
  };
}

export async function shot(page: Page, name: string): Promise<void> {
  mkdirSync(SHOTS, { recursive: true });
  await page.screenshot({ path: join(SHOTS, `${name}.png`), fullPage: true });
}

export interface AxeFinding {
  id: string;
  impact: string;
  help: string;
  targets: string[];
}

/**
 * axe-core's serious and critical violations on the page as it is now.
 * The page's CSP allows no inline script, so axe is evaluated through the
 * DevTools protocol (page.evaluate, which the CSP does not govern) instead of
 * an injected <script> tag.
 */
export async function axeSerious(page: Page): Promise<AxeFinding[]> {
  if (!(await page.evaluate("typeof window.axe === 'object'"))) await page.evaluate(AXE);
  const found = (await page.evaluate(
    `axe.run(document, { resultTypes: ["violations"] }).then((r) => r.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, targets: v.nodes.slice(0, 5).map((n) => n.target.join(" ")) })))`,
  )) as AxeFinding[];
  return found.filter((v) => v.impact === "serious" || v.impact === "critical");
}

/** True when nothing on the page is wider than the viewport (no horizontal scroll). */
export function noHorizontalOverflow(page: Page): Promise<boolean> {
  return page.evaluate("document.documentElement.scrollWidth <= window.innerWidth") as Promise<boolean>;
}
