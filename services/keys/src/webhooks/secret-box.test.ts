import { describe, expect, test } from "bun:test";
import { createSecretBox, newSigningSecret, parseSecretsKey, secretBoxFor } from "./secret-box";

describe("secret box", () => {
  test("seals and opens; the ciphertext does not hold the secret and differs each time", () => {
    const box = createSecretBox(Buffer.alloc(32, 1));
    const { bytes } = newSigningSecret();
    const a = box.seal("wh_a", bytes);
    const b = box.seal("wh_a", bytes);
    expect(a.equals(b)).toBe(false);
    expect(a.includes(bytes)).toBe(false);
    expect(box.open("wh_a", a).equals(bytes)).toBe(true);
  });

  test("a ciphertext moved to another endpoint, altered, or opened with another key does not open", () => {
    const box = createSecretBox(Buffer.alloc(32, 1));
    const sealed = box.seal("wh_a", Buffer.alloc(32, 9));
    expect(() => box.open("wh_b", sealed)).toThrow();
    const flipped = Buffer.from(sealed);
    flipped[20]! ^= 1;
    expect(() => box.open("wh_a", flipped)).toThrow();
    expect(() => createSecretBox(Buffer.alloc(32, 2)).open("wh_a", sealed)).toThrow();
  });

  test("WEBHOOK_SECRETS_KEY wins over JWT_SECRET; with neither there is no box (webhooks off)", () => {
    const key = Buffer.alloc(32, 3);
    const sealed = secretBoxFor({ WEBHOOK_SECRETS_KEY: key, JWT_SECRET: "j".repeat(40) })!.seal("wh_a", Buffer.from("s"));
    expect(createSecretBox(key).open("wh_a", sealed).toString()).toBe("s");
    const fromJwt = secretBoxFor({ JWT_SECRET: "j".repeat(40) })!.seal("wh_a", Buffer.from("s"));
    expect(
      createSecretBox(Buffer.from("j".repeat(40)))
        .open("wh_a", fromJwt)
        .toString(),
    ).toBe("s");
    expect(secretBoxFor({})).toBeUndefined();
  });

  test("the secret: whsec_ and base64 of 32 random bytes", () => {
    const s = newSigningSecret();
    expect(s.text).toBe(`whsec_${s.bytes.toString("base64")}`);
    expect(s.bytes.length).toBe(32);
    expect(newSigningSecret().text).not.toBe(s.text);
  });

  test("WEBHOOK_SECRETS_KEY: 32+ bytes as hex or base64", () => {
    expect(parseSecretsKey("ab".repeat(32))?.length).toBe(32);
    expect(parseSecretsKey(Buffer.alloc(48, 5).toString("base64"))?.length).toBe(48);
    expect(parseSecretsKey("ab".repeat(31))).toBeNull();
    expect(parseSecretsKey(Buffer.alloc(16).toString("base64"))).toBeNull();
    expect(parseSecretsKey("not a key!")).toBeNull();
  });
});
