/**
 * The owners' console end to end, in headless Chromium against the real keys,
 * usage and example services (real Postgres and NATS): sign in by pasting a
 * token → generate a key → reveal and copy it → call the example API with it
 * → see the call in the log table and in the chart → revoke it behind the
 * typed confirmation → the example refuses it. Nothing leaves loopback, no
 * CSP rule is broken, and each step writes a screenshot.
 */
import { expect, test } from "bun:test";
import { goodLoan, newOwner, req, waitFor } from "@riskinmind/testkit";
import { openPage, shot, useConsoleStack } from "./browser";

const env = useConsoleStack({ withUsage: true });

const predict = (apiKey: string) => req(`${env.stack.loansUrl}/api/v1/loans/predict`, { method: "POST", headers: { "x-api-key": apiKey }, json: goodLoan });

test("sign in → generate → reveal and copy → call the example → see it in the table and the chart → revoke → refused", async () => {
  const owner = await newOwner();
  const w = await openPage(env.browser, { permissions: ["clipboard-read", "clipboard-write"] });
  const { page } = w;

  // Sign in by pasting the token.
  await page.goto(`${env.stack.keysUrl}/console`);
  await page.getByLabel("Access token").fill(owner.jwt);
  await shot(page, "01-sign-in");
  await page.getByRole("button", { name: "Sign in" }).click();
  await page.getByRole("heading", { name: "No active live key" }).waitFor();
  await shot(page, "02-no-key");

  // Generate: the key is revealed once, with a copy button.
  await page.getByLabel("Label (optional)").fill("console e2e");
  await page.getByRole("button", { name: "Generate live key" }).click();
  const revealed = page.locator("#revealed-key");
  await revealed.waitFor();
  const apiKey = await revealed.inputValue();
  expect(apiKey).toMatch(/^sk_live_[0-9A-Za-z]{49}$/);
  await expect(page.getByText("Shown once.").isVisible()).resolves.toBe(true);
  await page.getByRole("button", { name: "Copy" }).click();
  await page.getByText("Copied to the clipboard.").waitFor();
  expect(await page.evaluate("navigator.clipboard.readText()")).toBe(apiKey);
  // The details show the new key by its snippet, never in full.
  const snippet = `sk_live_...${apiKey.slice(-4)}`;
  await page.getByRole("heading", { name: new RegExp(snippet.replace(/\./g, "\\.")) }).waitFor();
  await shot(page, "03-revealed");
  // What the server holds agrees with the page.
  const held = await env.stack.keys.call("GET", "/api/v1/keys/", { headers: owner.headers });
  expect(held.body.data).toMatchObject({ keySnippet: snippet, label: "console e2e", status: "ACTIVE" });
  await page.getByRole("button", { name: "I have stored it" }).click();
  expect(await page.locator("#revealed-key").count()).toBe(0);

  // Call the example API with the copied key.
  const first = await predict(apiKey);
  expect(first.status).toBe(200);

  // The call shows in the log table and in the chart (Refresh until ingested).
  await page.getByRole("tab", { name: "Usage" }).click();
  const row = page.locator("#logs tbody tr", { hasText: "/api/v1/loans/predict" });
  const charted = () => page.evaluate(`[...document.querySelectorAll("#usage-chart g.bucket")].reduce((n, g) => n + Number(g.dataset.count), 0)`) as Promise<number>;
  await waitFor(
    async () => {
      if ((await row.count()) === 1 && (await charted()) === 1) return true;
      await page.getByRole("button", { name: "Refresh" }).click();
      return false;
    },
    20_000,
    "the call in the log table and the chart",
  );
  const cells = await row.locator("td").allTextContents();
  expect(cells.slice(1)).toEqual(["POST", "/api/v1/loans/predict", "200", expect.stringMatching(/^\d+ ms$/), held.body.data.keyId]);
  expect(await page.locator("#usage-chart g.bucket[data-ok='1']").count()).toBe(1);
  expect(await page.locator("#usage-chart rect.s2xx").count()).toBe(1);
  expect(await page.locator("#endpoints tbody tr").locator("th, td").allTextContents()).toEqual(["/api/v1/loans/predict", "1", "0", "0", expect.stringMatching(/^\d+ ms$/)]);
  await shot(page, "04-usage");

  // Revoke behind the typed confirmation: the button stays disabled until the word is typed.
  await page.getByRole("tab", { name: "Key" }).click();
  await page.getByRole("button", { name: "Revoke", exact: true }).click();
  const dialog = page.getByRole("dialog", { name: "Revoke key" });
  await dialog.waitFor();
  const confirm = dialog.getByRole("button", { name: "Revoke key" });
  expect(await confirm.isDisabled()).toBe(true);
  await dialog.getByLabel("Type revoke to confirm").fill("revok");
  expect(await confirm.isDisabled()).toBe(true);
  await dialog.getByLabel("Type revoke to confirm").fill("revoke");
  await shot(page, "05-revoke-confirm");
  await confirm.click();
  await page.getByText("Key revoked.").waitFor();
  await page.getByRole("heading", { name: "No active live key" }).waitFor();
  await shot(page, "06-revoked");

  // The example refuses the key now.
  const refused = await predict(apiKey);
  expect(refused.status).toBe(401);
  expect(refused.body.success).toBe(false);
  expect((await env.stack.keys.call("GET", "/api/v1/keys/", { headers: owner.headers })).status).toBe(404);

  w.expectClean();
  await w.context.close();
}, 120_000);
