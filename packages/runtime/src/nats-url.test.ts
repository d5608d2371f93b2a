/**
 * NATS_URL as a cluster's list: what nats.js gets (servers without
 * credentials, one user), and what config validation refuses, with a message
 * that never repeats a password.
 */
import { describe, expect, test } from "bun:test";
import { z } from "zod";
import { natsFields } from "./config";
import { parseNatsUrls } from "./nats-url";

const secret = () => `p${crypto.randomUUID().replaceAll("-", "")}`;

describe("parseNatsUrls", () => {
  test("one URL: its server, user and password apart", () => {
    const pw = secret();
    expect(parseNatsUrls(`nats://keys:${pw}@127.0.0.1:4222`)).toEqual({ servers: ["nats://127.0.0.1:4222"], user: "keys", pass: pw });
    expect(parseNatsUrls("nats://127.0.0.1:4222")).toEqual({ servers: ["nats://127.0.0.1:4222"] });
    const tok = secret();
    expect(parseNatsUrls(`nats://${tok}@nats.internal`)).toEqual({ servers: ["nats://nats.internal"], token: tok });
  });

  test("a cluster's list: every server in order, credentials from each URL or from the first only", () => {
    const pw = secret();
    const each = `nats://usage:${pw}@127.0.0.1:4001, nats://usage:${pw}@127.0.0.1:4002,nats://usage:${pw}@127.0.0.1:4003`;
    const servers = ["nats://127.0.0.1:4001", "nats://127.0.0.1:4002", "nats://127.0.0.1:4003"];
    expect(parseNatsUrls(each)).toEqual({ servers, user: "usage", pass: pw });
    const first = `nats://usage:${pw}@127.0.0.1:4001,nats://127.0.0.1:4002,nats://127.0.0.1:4003`;
    expect(parseNatsUrls(first)).toEqual({ servers, user: "usage", pass: pw });
  });

  test("a percent-encoded password is decoded", () => {
    expect(parseNatsUrls("nats://u:a%40b@h1:1,nats://u:a%40b@h2:2").pass).toBe("a@b");
  });

  test("refuses a malformed list, naming the URL's position and never its text", () => {
    const pw = secret();
    const cases: [string, RegExp][] = [
      [`nats://u:${pw}@h1:4222,,nats://u:${pw}@h2:4222`, /none empty/],
      [`nats://u:${pw}@h1:4222,`, /none empty/],
      [`nats://u:${pw}@h1:4222,h2:4222`, /URL 2 of 2 /],
      [`nats://u:${pw}@h1:4222,http://h2:4222`, /URL 2 of 2 must start with nats:/],
      [`nats://u:${pw}@h1:4222,nats://u:${pw}@h2:4222/x`, /URL 2 of 2 must be scheme/],
      [`nats://u:${pw}@h1:4222,nats://v:${pw}@h2:4222`, /same ones/],
      [`nats://u:${pw}@h1:4222,nats://u:${secret()}@h2:4222`, /same ones/],
      [`nats://:${pw}@h1:4222`, /needs a user/],
    ];
    for (const [value, message] of cases) {
      let err: Error | undefined;
      try {
        parseNatsUrls(value);
      } catch (e) {
        err = e as Error;
      }
      expect(err?.message).toMatch(message);
      expect(err?.message).not.toContain(pw);
    }
  });
});

describe("NATS_URL in the shared config", () => {
  const nats = z.object(natsFields);
  const issue = (env: Record<string, string>) => {
    const r = nats.safeParse(env);
    return r.success ? "ok" : `${r.error.issues[0]!.path.join(".")}: ${r.error.issues[0]!.message}`;
  };

  test("accepts a cluster's list, refuses a malformed one with a message naming NATS_URL", () => {
    const pw = secret();
    expect(issue({ NATS_URL: `nats://keys:${pw}@127.0.0.1:4001,nats://keys:${pw}@127.0.0.1:4002,nats://keys:${pw}@127.0.0.1:4003` })).toBe("ok");
    const bad = issue({ NATS_URL: `nats://keys:${pw}@127.0.0.1:4001,127.0.0.1:4002` });
    expect(bad).toStartWith("NATS_URL: URL 2 of 2");
    expect(bad).not.toContain(pw);
  });

  test("NATS_STREAM_REPLICAS: 1 by default, 1..5", () => {
    const url = "nats://127.0.0.1:4222";
    expect(nats.parse({ NATS_URL: url }).NATS_STREAM_REPLICAS).toBe(1);
    expect(nats.parse({ NATS_URL: url, NATS_STREAM_REPLICAS: "3" }).NATS_STREAM_REPLICAS).toBe(3);
    for (const v of ["0", "6", "two"]) expect(issue({ NATS_URL: url, NATS_STREAM_REPLICAS: v })).toBe("NATS_STREAM_REPLICAS: must be an integer 1..5");
  });
});
