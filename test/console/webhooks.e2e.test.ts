/**
 * The webhooks tab against the real endpoints (keys service with private
 * targets allowed, a receiver on 127.0.0.1): add an endpoint (its signing
 * secret is shown once), see a key change delivered in its deliveries, delete
 * it behind a confirmation. Nothing leaves loopback, no CSP rule is broken.
 */
import { afterAll, beforeAll, expect, test } from "bun:test";
import { newOwner, waitFor } from "@riskinmind/testkit";
import { axeSerious, openPage, shot, useConsoleStack } from "./browser";

const env = useConsoleStack({ keysEnv: { WEBHOOK_ALLOW_PRIVATE_TARGETS: "true", WEBHOOK_RETRY_SCHEDULE_MS: "50,100" } });
const received: { type: string; ownerId: string }[] = [];
let receiver: ReturnType<typeof Bun.serve>;

beforeAll(async () => {
  receiver = Bun.serve({
    hostname: "127.0.0.1",
    port: 0,
    async fetch(req) {
      const body = (await req.json()) as { type: string; data: { ownerId: string } };
      received.push({ type: body.type, ownerId: body.data.ownerId });
      return new Response("ok");
    },
  });
});
afterAll(() => {
  receiver?.stop(true);
});

test("add an endpoint (secret shown once) → a key change is delivered and listed → delete it", async () => {
  const o = await newOwner();
  const w = await openPage(env.browser, { permissions: ["clipboard-read", "clipboard-write"] });
  const { page } = w;
  await page.goto(`${env.stack.keysUrl}/console#token=${o.jwt}`);
  await page.getByRole("tab", { name: "Webhooks" }).click();
  const url = `http://127.0.0.1:${receiver.port}/hooks/keys`;
  await page.getByLabel("URL").fill(url);
  await page.getByLabel("Description (optional)").fill("console e2e");
  await page.getByLabel("All, present and future").check();
  await page.getByRole("button", { name: "Add endpoint" }).click();
  const secret = await page.locator("#wh-secret").inputValue();
  expect(secret).toMatch(/^whsec_/);
  await page.getByText("Shown once.").waitFor();
  await page.getByRole("listitem").filter({ hasText: url }).waitFor();
  expect(await axeSerious(page)).toEqual([]);
  await shot(page, "webhooks");
  // The list (and the API) never show the secret again.
  const listed = await env.stack.keys.call("GET", "/api/v1/keys/webhooks", { headers: o.headers });
  expect(listed.status).toBe(200);
  expect(JSON.stringify(listed.body)).not.toContain(secret);
  await page.getByRole("button", { name: "I have stored it" }).click();
  expect(await page.locator("#wh-secret").count()).toBe(0);

  // A key change goes out to the endpoint and shows in its deliveries.
  await page.getByRole("tab", { name: "Key" }).click();
  await page.getByRole("button", { name: "Generate live key" }).click();
  await page.locator("#revealed-key").waitFor();
  await waitFor(() => received.some((r) => r.ownerId === o.sub && r.type === "key.created"), 15_000, "key.created at the receiver");
  await page.getByRole("tab", { name: "Webhooks" }).click();
  const row = () => page.getByRole("dialog", { name: "Deliveries" }).locator("tbody tr", { hasText: "key.created" });
  await waitFor(
    async () => {
      await page.getByRole("button", { name: "Deliveries" }).click();
      await page.getByRole("dialog", { name: "Deliveries" }).waitFor();
      const ok = (await row().count()) === 1 && (await row().locator("td").nth(1).textContent()) === "delivered";
      if (!ok) await page.getByRole("dialog", { name: "Deliveries" }).getByRole("button", { name: "Close" }).click();
      return ok;
    },
    15_000,
    "the delivery listed as delivered",
  );
  await shot(page, "webhook-deliveries");
  await page.getByRole("dialog", { name: "Deliveries" }).getByRole("button", { name: "Close" }).click();

  // Delete behind a confirmation.
  await page.getByRole("button", { name: "Delete" }).click();
  await page.getByRole("dialog", { name: "Delete webhook" }).getByRole("button", { name: "Delete" }).click();
  await waitFor(async () => (await page.getByRole("listitem").filter({ hasText: url }).count()) === 0, 5_000, "the endpoint gone from the list");
  expect((await env.stack.keys.call("GET", "/api/v1/keys/webhooks", { headers: o.headers })).body.data).toEqual([]);
  w.expectClean();
  await w.context.close();
}, 90_000);
