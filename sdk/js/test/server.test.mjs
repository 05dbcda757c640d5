import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import { readFileSync } from "node:fs";
import { createHmac } from "node:crypto";
import {
  verifyWebhook, signWebhook, WebhookVerificationError,
  createPaymentLink, PaylinkError, signLink, canonicalLinkString,
} from "../server.mjs";

const root = new URL("../../../", import.meta.url);
const linkVectors = JSON.parse(readFileSync(new URL("testdata/signed_link_vectors.json", root))).cases;
const webhookVectors = JSON.parse(readFileSync(new URL("testdata/webhook_vectors.json", root))).cases;

test("signWebhook and verifyWebhook agree with the vectors the Go tests use", () => {
  assert.ok(webhookVectors.length >= 3);
  for (const v of webhookVectors) {
    assert.equal(signWebhook(v.secret, v.msg_id, v.timestamp, v.payload), v.expected_signature, v.name);
    const headers = { "webhook-id": v.msg_id, "webhook-timestamp": String(v.timestamp), "webhook-signature": v.expected_signature };
    const evt = verifyWebhook(v.secret, headers, v.payload, { now: () => v.timestamp * 1000 });
    assert.deepEqual(evt, JSON.parse(v.payload), v.name);
  }
});

test("signLink and canonicalLinkString match the shared vectors", () => {
  assert.ok(linkVectors.length >= 3);
  for (const v of linkVectors) {
    assert.equal(canonicalLinkString(v.params), v.canonical);
    const p = v.params;
    const url = new URL(signLink(v.secret, {
      keyId: p.key, amount: Number(p.amount), currency: p.currency, reference: p.ref,
      expiresAt: Number(p.exp), description: p.description, successUrl: p.success_url, cancelUrl: p.cancel_url,
    }, { baseURL: "https://pay.example" }));
    assert.equal(url.origin + url.pathname, "https://pay.example/pay/s");
    assert.equal(url.searchParams.get("sig"), v.sig);
    // The URL carries every signed parameter unchanged.
    for (const [k, val] of Object.entries(p)) assert.equal(url.searchParams.get(k), val);
  }
});

test("signLink refuses bad input instead of signing it", () => {
  const ok = { keyId: "key_01m8000000000000000000000a", amount: 100, currency: "usd", reference: "r" };
  const base = { baseURL: "https://pay.example" };
  assert.throws(() => signLink("whsec_x", ok, base), TypeError);
  for (const bad of [{ amount: 0 }, { amount: 1.5 }, { amount: 100000000 }, { currency: "US" },
    { reference: "" }, { reference: "has space" }, { keyId: "mer_1" }]) {
    assert.throws(() => signLink("sk_test_x", { ...ok, ...bad }, base), TypeError, JSON.stringify(bad));
  }
  const url = new URL(signLink("sk_test_x", ok, { ...base, now: () => 1_000_000_000 }));
  assert.equal(url.searchParams.get("currency"), "USD");
  assert.equal(url.searchParams.get("exp"), String(1_000_000 + 3600));
});

const secret = "whsec_" + Buffer.from("0123456789abcdef0123456789abcdef").toString("base64");

function signed(body, { id = "evt_1", ts = 1_700_000_000, sig } = {}) {
  return { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": sig ?? signWebhook(secret, id, ts, body) };
}

test("verifyWebhook accepts a good signature and returns the event", () => {
  const body = JSON.stringify({ id: "evt_1", type: "payment.succeeded", data: { id: "pay_1" } });
  const now = () => 1_700_000_010_000;
  const evt = verifyWebhook(secret, signed(body), body, { now });
  assert.equal(evt.type, "payment.succeeded");
  // Buffers and Headers objects work, header names in any case.
  const h = new Headers(signed(body));
  assert.equal(verifyWebhook(secret, h, Buffer.from(body), { now }).data.id, "pay_1");
  const upper = Object.fromEntries(Object.entries(signed(body)).map(([k, v]) => [k.toUpperCase(), v]));
  assert.equal(verifyWebhook(secret, upper, body, { now }).id, "evt_1");
});

test("verifyWebhook accepts any one of several signatures (secret rotation)", () => {
  const body = "{}";
  const other = "whsec_" + Buffer.from("another secret of enough length!").toString("base64");
  const both = signWebhook(other, "evt_1", 1_700_000_000, body) + " " + signWebhook(secret, "evt_1", 1_700_000_000, body);
  assert.deepEqual(verifyWebhook(secret, signed(body, { sig: both }), body, { now: () => 1_700_000_000_000 }), {});
});

test("verifyWebhook refuses tampering, staleness and missing headers", () => {
  const body = JSON.stringify({ amount: 2500 });
  const now = () => 1_700_000_000_000;
  const cases = {
    "edited body": [signed(body), body.replace("2500", "25000")],
    "edited id": [{ ...signed(body), "webhook-id": "evt_2" }, body],
    "edited timestamp": [{ ...signed(body), "webhook-timestamp": "1700000001" }, body],
    "wrong version": [signed(body, { sig: "v2," + signWebhook(secret, "evt_1", 1_700_000_000, body).slice(3) }), body],
    "garbage": [signed(body, { sig: "v1,AAAA" }), body],
    "too old": [signed(body, { ts: 1_700_000_000 - 301 }), body],
    "too new": [signed(body, { ts: 1_700_000_000 + 301 }), body],
    "no signature": [{ "webhook-id": "evt_1", "webhook-timestamp": "1700000000" }, body],
  };
  for (const [name, [headers, raw]] of Object.entries(cases)) {
    assert.throws(() => verifyWebhook(secret, headers, raw, { now }), WebhookVerificationError, name);
  }
  assert.throws(() => verifyWebhook("sk_test_x", signed(body), body, { now }), TypeError);
});

function apiServer(handler) {
  return new Promise((resolve) => {
    const seen = [];
    const srv = createServer((req, res) => {
      let body = "";
      req.on("data", (c) => (body += c));
      req.on("end", () => {
        seen.push({ method: req.method, url: req.url, headers: req.headers, body });
        handler(seen.length, req, res);
      });
    });
    srv.listen(0, "127.0.0.1", () => resolve({ srv, seen, baseURL: `http://127.0.0.1:${srv.address().port}` }));
  });
}

test("createPaymentLink retries a 5xx with the same Idempotency-Key", async () => {
  const { srv, seen, baseURL } = await apiServer((n, req, res) => {
    if (n === 1) {
      res.writeHead(503, { "content-type": "application/json" });
      res.end(JSON.stringify({ error: { type: "api_error", code: "unavailable", message: "try again", request_id: "req_1" } }));
      return;
    }
    res.writeHead(201, { "content-type": "application/json" });
    res.end(JSON.stringify({ id: "plink_1", status: "active" }));
  });
  try {
    const link = await createPaymentLink({ baseURL, keyId: "key_a", secret: "sk_test_b" }, { amount: 2500, currency: "USD" });
    assert.equal(link.id, "plink_1");
    assert.equal(seen.length, 2);
    assert.equal(seen[0].headers["idempotency-key"], seen[1].headers["idempotency-key"]);
    assert.ok(seen[0].headers["idempotency-key"].length >= 16);
    assert.equal(seen[0].headers.authorization, "Basic " + Buffer.from("key_a:sk_test_b").toString("base64"));
    assert.deepEqual(JSON.parse(seen[0].body), { amount: 2500, currency: "USD" });
    assert.equal(seen[0].url, "/v1/payment_links");
  } finally {
    srv.close();
  }
});

test("createPaymentLink surfaces a 4xx as PaylinkError without retrying", async () => {
  const { srv, seen, baseURL } = await apiServer((n, req, res) => {
    res.writeHead(400, { "content-type": "application/json", "x-request-id": "req_9" });
    res.end(JSON.stringify({ error: { type: "invalid_request_error", code: "amount_invalid", param: "amount", message: "bad", request_id: "req_9" } }));
  });
  try {
    await assert.rejects(
      createPaymentLink({ baseURL, keyId: "key_a", secret: "sk_test_b" }, { amount: 0, currency: "USD" }, { idempotencyKey: "k1" }),
      (e) => e instanceof PaylinkError && e.status === 400 && e.code === "amount_invalid" && e.param === "amount" && e.requestId === "req_9",
    );
    assert.equal(seen.length, 1);
    assert.equal(seen[0].headers["idempotency-key"], "k1");
  } finally {
    srv.close();
  }
});

test("the webhook signature is HMAC-SHA256 over id.timestamp.body with the decoded secret", () => {
  // An independent computation, so signWebhook can't drift from the scheme.
  const key = Buffer.from("0123456789abcdef0123456789abcdef");
  const want = "v1," + createHmac("sha256", key).update("evt_9.42.hello").digest("base64");
  assert.equal(signWebhook(secret, "evt_9", 42, "hello"), want);
});
