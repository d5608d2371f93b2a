/**
 * The console's quality bar in headless Chromium against the real keys,
 * usage and example services: the dev link's #token= signs in and leaves the
 * URL; zero serious or critical axe-core violations on every main view in
 * light and dark; no horizontal scroll at 375 px; the system's dark mode
 * applies; generate works with the keyboard alone; policies, regenerate with
 * a grace period, test mode, filters and CSV export do what the API says.
 */
import { describe, expect, test } from "bun:test";
import { readFileSync } from "node:fs";
import type { Page } from "playwright-core";
import { goodLoan, newOwner, type Owner, req, waitFor } from "@riskinmind/testkit";
import { axeSerious, noHorizontalOverflow, openPage, shot, useConsoleStack } from "./browser";

const env = useConsoleStack({ withUsage: true });

const predict = (apiKey: string, json: unknown = goodLoan) => req(`${env.stack.loansUrl}/api/v1/loans/predict`, { method: "POST", headers: { "x-api-key": apiKey }, json });
const generate = async (o: Owner, mode = "live") => {
  const r = await env.stack.keys.call("POST", `/api/v1/keys/generate?mode=${mode}`, { headers: o.headers });
  expect(r.status).toBe(201);
  return r.body.data as { apiKey: string; keyId: string; keySnippet: string };
};
/** Opens the console signed in through the dev link's fragment. */
const signedIn = (page: Page, o: Owner) => page.goto(`${env.stack.keysUrl}/console#token=${o.jwt}`);

describe("sign-in", () => {
  test("the #token= link signs in, the token leaves the address bar and is sent only as a header", async () => {
    const o = await newOwner();
    const w = await openPage(env.browser);
    const seen: { url: string; auth: string | undefined }[] = [];
    w.page.on("request", (r) => seen.push({ url: r.url(), auth: r.headers().authorization }));
    await signedIn(w.page, o);
    await w.page.getByRole("heading", { name: "No active live key" }).waitFor();
    expect(w.page.url()).toBe(`${env.stack.keysUrl}/console`);
    expect(await w.page.evaluate(`sessionStorage.getItem("riskinmind.console.token")`)).toBe(o.jwt);
    expect(seen.some((r) => r.url.includes(o.jwt))).toBe(false);
    const api = seen.filter((r) => r.url.includes("/api/v1/keys"));
    expect(api.length).toBeGreaterThan(0);
    for (const r of api) expect(r.auth).toBe(`Bearer ${o.jwt}`);
    // Reload: still signed in (the tab's session storage), and sign out forgets it.
    await w.page.reload();
    await w.page.getByRole("heading", { name: "No active live key" }).waitFor();
    await w.page.getByRole("button", { name: "Sign out" }).click();
    await w.page.getByLabel("Access token").waitFor();
    expect(await w.page.evaluate(`sessionStorage.getItem("riskinmind.console.token")`)).toBeNull();
    w.expectClean();
    await w.context.close();
  });

  test("a refused token brings back the sign-in form with a reason; junk is refused before any request", async () => {
    const w = await openPage(env.browser);
    const forged = `${(await newOwner()).jwt.slice(0, -4)}AAAA`;
    await w.page.goto(`${env.stack.keysUrl}/console#token=${forged}`);
    await w.page.getByText("Your token was refused").waitFor();
    await w.page.getByLabel("Access token").fill("not a token");
    await w.page.getByRole("button", { name: "Sign in" }).click();
    await w.page.getByText("That does not look like a token").waitFor();
    w.expectClean();
    await w.context.close();
  });
});

describe("accessibility, small screens, dark mode, keyboard", () => {
  for (const colorScheme of ["light", "dark"] as const) {
    test(`zero serious or critical axe-core violations on every main view (${colorScheme})`, async () => {
      const o = await newOwner();
      const w = await openPage(env.browser, { colorScheme });
      const { page } = w;
      const findings: Record<string, unknown[]> = {};
      const check = async (view: string) => {
        findings[view] = await axeSerious(page);
      };
      await page.goto(`${env.stack.keysUrl}/console`);
      await page.getByLabel("Access token").waitFor();
      await check("sign-in");
      await signedIn(page, o);
      await page.getByRole("heading", { name: "No active live key" }).waitFor();
      await check("no key");
      await page.getByRole("button", { name: "Generate live key" }).click();
      await page.locator("#revealed-key").waitFor();
      await check("reveal and key");
      await page.getByRole("button", { name: "Edit policies" }).click();
      await page.getByRole("dialog", { name: "Edit policies" }).waitFor();
      await check("policies dialog");
      await page.keyboard.press("Escape");
      await page.getByRole("button", { name: "Revoke", exact: true }).click();
      await page.getByRole("dialog", { name: "Revoke key" }).waitFor();
      await check("revoke dialog");
      await page.keyboard.press("Escape");
      await page.getByRole("tab", { name: "Usage" }).click();
      await page.locator("#usage-chart").waitFor();
      await page.locator("#logs-count").waitFor();
      await check("usage");
      await shot(page, `usage-${colorScheme}`);
      await page.getByRole("tab", { name: "Audit" }).click();
      await page.locator("#audit").waitFor();
      await check("audit");
      await page.getByRole("tab", { name: "Webhooks" }).click();
      await page.locator("#unavailable, #wh-url").first().waitFor();
      await check("webhooks");
      expect(Object.keys(findings).length).toBe(8);
      expect(Object.fromEntries(Object.entries(findings).filter(([, v]) => v.length > 0))).toEqual({});
      // The check itself can fail: a nameless button added to the page is a critical finding.
      await page.evaluate(`document.querySelector("main").append(document.createElement("button"))`);
      expect((await axeSerious(page)).map((f) => f.id)).toContain("button-name");
      w.expectClean();
      await w.context.close();
    }, 90_000);
  }

  test("the system's dark mode applies; light stays light", async () => {
    const o = await newOwner();
    const bg = async (colorScheme: "light" | "dark") => {
      const w = await openPage(env.browser, { colorScheme });
      await signedIn(w.page, o);
      await w.page.getByRole("heading", { name: /No active live key|sk_live_/ }).waitFor();
      const colors = (await w.page.evaluate(`[getComputedStyle(document.documentElement).backgroundColor, getComputedStyle(document.body).color]`)) as string[];
      if (colorScheme === "dark") await shot(w.page, "key-dark");
      await w.context.close();
      return colors;
    };
    expect(await bg("light")).toEqual(["rgb(246, 247, 249)", "rgb(22, 24, 29)"]);
    expect(await bg("dark")).toEqual(["rgb(17, 20, 24)", "rgb(231, 233, 238)"]);
  });

  test("at 375 px wide nothing scrolls sideways: sign-in, key with the reveal, dialogs, usage", async () => {
    const o = await newOwner();
    const k = await generate(o);
    expect((await predict(k.apiKey)).status).toBe(200);
    const w = await openPage(env.browser, { viewport: { width: 375, height: 740 }, isMobile: true, hasTouch: true });
    const { page } = w;
    const overflow: Record<string, boolean> = {};
    await page.goto(`${env.stack.keysUrl}/console`);
    await page.getByLabel("Access token").waitFor();
    overflow["sign-in"] = await noHorizontalOverflow(page);
    await signedIn(page, o);
    await page.getByRole("heading", { name: /sk_live_/ }).waitFor();
    await page.getByRole("button", { name: "Regenerate" }).click();
    await page.getByRole("dialog", { name: "Regenerate key" }).getByRole("button", { name: "Regenerate" }).click();
    await page.locator("#revealed-key").waitFor();
    overflow["key and reveal"] = await noHorizontalOverflow(page);
    await shot(page, "375-key");
    await page.getByRole("button", { name: "Edit policies" }).click();
    await page.getByRole("dialog", { name: "Edit policies" }).waitFor();
    overflow["policies dialog"] = await noHorizontalOverflow(page);
    await page.keyboard.press("Escape");
    await page.getByRole("tab", { name: "Usage" }).click();
    await waitFor(
      async () => {
        if ((await page.locator("#logs tbody tr", { hasText: "/api/v1/loans/predict" }).count()) === 1) return true;
        await page.getByRole("button", { name: "Refresh" }).click();
        return false;
      },
      20_000,
      "the call in the log table",
    );
    overflow.usage = await noHorizontalOverflow(page);
    await shot(page, "375-usage");
    // The chart and tables scroll inside their cards here: each such region is reachable by keyboard.
    expect(await axeSerious(page)).toEqual([]);
    expect(overflow).toEqual({ "sign-in": true, "key and reveal": true, "policies dialog": true, usage: true });
    w.expectClean();
    await w.context.close();
  }, 60_000);

  test("keyboard only: Tab to Generate, Enter, the key is revealed and focus is visible all the way", async () => {
    const o = await newOwner();
    const w = await openPage(env.browser);
    const { page } = w;
    await signedIn(page, o);
    await page.getByRole("heading", { name: "No active live key" }).waitFor();
    const path: string[] = [];
    for (let i = 0; i < 20; i++) {
      await page.keyboard.press("Tab");
      const focused = (await page.evaluate(
        `(() => { const e = document.activeElement; const s = getComputedStyle(e); return { text: (e.textContent || e.id || e.getAttribute("aria-label") || e.tagName).trim(), outline: s.outlineStyle + " " + s.outlineWidth }; })()`,
      )) as {
        text: string;
        outline: string;
      };
      path.push(focused.text);
      // :focus-visible draws a 3px outline on whatever the keyboard reaches.
      expect(focused.outline).toBe("solid 3px");
      if (focused.text === "Generate live key") break;
    }
    expect(path.at(-1)).toBe("Generate live key");
    // Tab order follows the page: mode, sign out, the tabs, then the form.
    expect(path.indexOf("Key")).toBeLessThan(path.indexOf("gen-label"));
    await page.keyboard.press("Enter");
    const revealed = page.locator("#revealed-key");
    await revealed.waitFor();
    expect(await revealed.inputValue()).toMatch(/^sk_live_/);
    expect((await env.stack.keys.call("GET", "/api/v1/keys/", { headers: o.headers })).status).toBe(200);
    // Arrow keys move between tabs (one tab stop for the tab list).
    await page.getByRole("tab", { name: "Key" }).focus();
    await page.keyboard.press("ArrowRight");
    expect(await page.evaluate("document.activeElement.textContent")).toBe("Usage");
    expect(await page.getByRole("tab", { name: "Usage" }).getAttribute("aria-selected")).toBe("true");
    w.expectClean();
    await w.context.close();
  });
});

describe("key management through the page", () => {
  test("edit policies: saved values show and the server holds them; a bad scope is refused with the server's message and nothing changes", async () => {
    const o = await newOwner();
    await generate(o);
    const w = await openPage(env.browser);
    const { page } = w;
    await signedIn(page, o);
    await page.getByRole("button", { name: "Edit policies" }).click();
    const dialog = page.getByRole("dialog", { name: "Edit policies" });
    await dialog.getByLabel("Scopes").fill("loans:predict, BAD SCOPE");
    await dialog.getByRole("button", { name: "Save policies" }).click();
    await dialog.getByText(/Invalid body field/).waitFor();
    expect((await env.stack.keys.call("GET", "/api/v1/keys/", { headers: o.headers })).body.data.scopes).toEqual(["*"]);
    await dialog.getByLabel("Scopes").fill("loans:predict");
    await dialog.getByLabel("Calls", { exact: true }).first().fill("5");
    await dialog.getByLabel("per seconds").fill("1");
    await dialog.getByLabel("Calls", { exact: true }).nth(1).fill("1000");
    await dialog.getByLabel("IP allowlist").fill("203.0.113.0/24\n127.0.0.1");
    await dialog.getByRole("button", { name: "Save policies" }).click();
    await page.getByText("Policies saved.").waitFor();
    const held = (await env.stack.keys.call("GET", "/api/v1/keys/", { headers: o.headers })).body.data;
    expect(held).toMatchObject({ scopes: ["loans:predict"], rateLimit: { limit: 5, windowSeconds: 1 }, quota: { limit: 1000, period: "day", used: 0 }, ipAllowlist: ["203.0.113.0/24", "127.0.0.1"] });
    const details = page.locator("dl.grid");
    await expect(details.textContent()).resolves.toContain("5 per 1 s");
    expect(await page.locator("#quota-meter").getAttribute("max")).toBe("1000");
    await expect(details.textContent()).resolves.toContain("0 of 1,000 this day");
    await shot(page, "policies-saved");
    w.expectClean();
    await w.context.close();
  });

  test("regenerate with a grace period: the new key is revealed, the old one shows as previous and still works", async () => {
    const o = await newOwner();
    const old = await generate(o);
    const w = await openPage(env.browser);
    const { page } = w;
    await signedIn(page, o);
    await page.getByRole("button", { name: "Regenerate" }).click();
    const dialog = page.getByRole("dialog", { name: "Regenerate key" });
    await dialog.getByLabel("Grace period for the current key").selectOption("3600");
    await dialog.getByRole("button", { name: "Regenerate" }).click();
    const next = await page.locator("#revealed-key").inputValue();
    expect(next).toMatch(/^sk_live_/);
    expect(next).not.toBe(old.apiKey);
    await page.getByText(`${old.keySnippet} keeps working until`).waitFor();
    expect((await predict(old.apiKey)).status).toBe(200);
    expect((await predict(next)).status).toBe(200);
    w.expectClean();
    await w.context.close();
  });

  test("the mode switch works on the test slot: a sk_test_ key beside the live one", async () => {
    const o = await newOwner();
    const live = await generate(o);
    const w = await openPage(env.browser);
    const { page } = w;
    await signedIn(page, o);
    await page.getByRole("heading", { name: new RegExp(live.keySnippet.replace(/\./g, "\\.")) }).waitFor();
    await page.getByLabel("Test").check();
    await page.getByRole("button", { name: "Generate test key" }).click();
    expect(await page.locator("#revealed-key").inputValue()).toMatch(/^sk_test_/);
    expect((await env.stack.keys.call("GET", "/api/v1/keys/?mode=test", { headers: o.headers })).status).toBe(200);
    await page.getByLabel("Live").check();
    await page.getByRole("heading", { name: new RegExp(live.keySnippet.replace(/\./g, "\\.")) }).waitFor();
    w.expectClean();
    await w.context.close();
  });
});

describe("usage, audit and webhooks through the page", () => {
  test("filters narrow the table (with cursor paging) and the CSV export holds the filtered calls", async () => {
    const o = await newOwner();
    const k = await generate(o);
    for (let i = 0; i < 22; i++) expect((await predict(k.apiKey)).status).toBe(200);
    expect((await predict(k.apiKey, { amount: -1 })).status).toBe(400);
    const w = await openPage(env.browser, { acceptDownloads: true });
    const { page } = w;
    await signedIn(page, o);
    await page.getByRole("tab", { name: "Usage" }).click();
    await waitFor(
      async () => {
        if ((await page.locator("#logs-count").textContent()) === "23 matching calls, newest first") return true;
        await page.getByRole("button", { name: "Refresh" }).click();
        return false;
      },
      20_000,
      "23 calls in the log",
    );
    // 20 a page: the second page holds the other three.
    expect(await page.locator("#logs tbody tr").count()).toBe(20);
    await page.getByRole("button", { name: "Older" }).click();
    await waitFor(async () => (await page.locator("#logs tbody tr").count()) === 3, 5_000, "the second page");
    expect(await page.getByRole("button", { name: "Older" }).isDisabled()).toBe(true);
    await page.getByRole("button", { name: "Newer" }).click();
    await waitFor(async () => (await page.locator("#logs tbody tr").count()) === 20, 5_000, "the first page again");

    await page.getByLabel("Status").fill("4xx");
    await page.getByRole("button", { name: "Apply filters" }).click();
    await waitFor(async () => (await page.locator("#logs-count").textContent()) === "1 matching call, newest first", 5_000, "the filtered count");
    expect(await page.locator("#logs tbody tr td").nth(3).textContent()).toBe("400");
    expect(await page.locator("#usage-chart g.bucket[data-client='1']").count()).toBe(1);

    const [download] = await Promise.all([page.waitForEvent("download"), page.getByRole("button", { name: "Export CSV" }).click()]);
    const csv = readFileSync((await download.path())!, "utf8")
      .trim()
      .split("\n");
    expect(csv.length).toBe(2);
    expect(csv[1]).toContain("400");
    expect(csv[1]).toContain(k.keyId);
    await page.getByText("CSV downloaded.").waitFor();
    w.expectClean();
    await w.context.close();
  }, 60_000);

  test("the audit tab lists the owner's changes newest first, by whom and what changed", async () => {
    const o = await newOwner();
    const w = await openPage(env.browser);
    const { page } = w;
    await signedIn(page, o);
    await page.getByRole("button", { name: "Generate live key" }).click();
    await page.locator("#revealed-key").waitFor();
    await page.getByRole("button", { name: "Edit policies" }).click();
    await page.getByRole("dialog", { name: "Edit policies" }).getByLabel("Scopes").fill("loans:predict");
    await page.getByRole("button", { name: "Save policies" }).click();
    await page.getByText("Policies saved.").waitFor();
    await page.getByRole("tab", { name: "Audit" }).click();
    const rows = page.locator("#audit tbody tr");
    await waitFor(async () => (await rows.count()) === 2, 5_000, "two audit rows");
    const cells = (i: number) => rows.nth(i).locator("td").allTextContents();
    const keyId = (await env.stack.keys.call("GET", "/api/v1/keys/", { headers: o.headers })).body.data.keyId as string;
    expect((await cells(0)).slice(1)).toEqual(["key.updated", keyId, "live", "owner", expect.any(String), expect.stringContaining("scopes")]);
    expect((await cells(1)).slice(1, 5)).toEqual(["key.generated", keyId, "live", "owner"]);
    await shot(page, "audit");
    // Another owner sees none of it.
    const other = await newOwner();
    await signedIn(page, other);
    await page.getByText("Nothing recorded yet.").waitFor();
    w.expectClean();
    await w.context.close();
  });

  test("on a server without the audit or webhooks endpoints, their tabs say so calmly", async () => {
    const o = await newOwner();
    // An older server answers those paths as any unknown route: take that real 404 from this one (on a path no version has) and serve it for both.
    const missing = await fetch(`${env.stack.keysUrl}/api/v1/keys/no-such-route`, { headers: o.headers });
    expect(missing.status).toBe(404);
    const body = await missing.text();
    const w = await openPage(env.browser);
    for (const path of ["audit", "webhooks"]) {
      await w.context.route(new RegExp(`/api/v1/keys/${path}(\\?|$)`), (route) => route.fulfill({ status: 404, contentType: "application/json; charset=utf-8", body }));
    }
    await signedIn(w.page, o);
    await w.page.getByRole("tab", { name: "Audit" }).click();
    await w.page.getByText("The audit log is not available on this server.").waitFor();
    await w.page.getByRole("tab", { name: "Webhooks" }).click();
    await w.page.getByText("Webhooks is not available on this server.").waitFor();
    expect(await w.page.locator(".error").count()).toBe(0);
    w.expectClean();
    await w.context.close();
  });
});
