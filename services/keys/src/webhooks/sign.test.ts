import { describe, expect, test } from "bun:test";
import { signatureHeaders } from "./sign";

describe("Standard Webhooks signature", () => {
  test("reproduces the specification's published test vector", () => {
    const secret = Buffer.from("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "base64");
    const h = signatureHeaders(secret, "msg_p5jXN8AQM9LWM0D4loKWxJek", 1614265330, '{"test": 2432232314}');
    expect(h).toEqual({
      "webhook-id": "msg_p5jXN8AQM9LWM0D4loKWxJek",
      "webhook-timestamp": "1614265330",
      "webhook-signature": "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=",
    });
  });

  test("the id, the timestamp and the body are all signed", () => {
    const secret = Buffer.alloc(32, 7);
    const base = signatureHeaders(secret, "evt_1", 1, "{}")["webhook-signature"];
    expect(signatureHeaders(secret, "evt_2", 1, "{}")["webhook-signature"]).not.toBe(base);
    expect(signatureHeaders(secret, "evt_1", 2, "{}")["webhook-signature"]).not.toBe(base);
    expect(signatureHeaders(secret, "evt_1", 1, "{ }")["webhook-signature"]).not.toBe(base);
    expect(signatureHeaders(Buffer.alloc(32, 8), "evt_1", 1, "{}")["webhook-signature"]).not.toBe(base);
  });
});
