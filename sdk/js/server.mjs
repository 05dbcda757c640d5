// Paylink server helpers for Node 18+: verify webhooks and signed returns,
// create payment links over the API, and sign stateless payment links
// offline. Zero dependencies: node:crypto and the global fetch only.
import { createHmac, randomUUID, timingSafeEqual } from "node:crypto";

export { verifyReturn, ReturnVerificationError } from "./return.mjs";

/** Thrown when a webhook's signature or timestamp does not check out. */
export class WebhookVerificationError extends Error {
  constructor(message) {
    super(message);
    this.name = "WebhookVerificationError";
  }
}

/** Thrown for an error answer of the Paylink API; carries API.md's fields. */
export class PaylinkError extends Error {
  constructor(status, body, requestId) {
    const e = (body && body.error) || {};
    super(e.message || `Paylink API answered ${status}`);
    this.name = "PaylinkError";
    this.status = status;
    this.type = e.type;
    this.code = e.code;
    this.param = e.param;
    this.requestId = e.request_id || requestId;
  }
}

function header(headers, name) {
  if (headers && typeof headers.get === "function") return headers.get(name);
  for (const key of Object.keys(headers || {})) {
    if (key.toLowerCase() === name) {
      const v = headers[key];
      return Array.isArray(v) ? v[0] : v;
    }
  }
  return undefined;
}

function webhookKey(secret) {
  if (typeof secret !== "string" || !secret.startsWith("whsec_")) {
    throw new TypeError("verifyWebhook: secret must be the endpoint's whsec_… secret");
  }
  return Buffer.from(secret.slice("whsec_".length), "base64");
}

/**
 * The Standard Webhooks signature of a message: "v1,<base64 HMAC-SHA256>" over
 * "<id>.<timestamp>.<body>", keyed with the base64-decoded part of the secret.
 */
export function signWebhook(secret, id, timestamp, rawBody) {
  const body = typeof rawBody === "string" ? rawBody : Buffer.from(rawBody).toString("utf8");
  const mac = createHmac("sha256", webhookKey(secret)).update(`${id}.${timestamp}.${body}`).digest("base64");
  return `v1,${mac}`;
}

/**
 * Verify a webhook delivery and return its parsed event. headers may be a
 * plain object (any case) or a Headers; rawBody is the body exactly as
 * received (string, Buffer or Uint8Array), before any JSON parsing.
 * Throws WebhookVerificationError when no signature matches or the
 * timestamp is more than `tolerance` seconds (default 300) from now.
 */
export function verifyWebhook(secret, headers, rawBody, { tolerance = 300, now = Date.now } = {}) {
  const id = header(headers, "webhook-id");
  const timestamp = header(headers, "webhook-timestamp");
  const signatures = header(headers, "webhook-signature");
  if (!id || !timestamp || !signatures) {
    throw new WebhookVerificationError("missing webhook-id, webhook-timestamp or webhook-signature header");
  }
  if (!/^\d+$/.test(timestamp)) {
    throw new WebhookVerificationError("webhook-timestamp is not a unix time");
  }
  const age = Math.floor(now() / 1000) - Number(timestamp);
  if (Math.abs(age) > tolerance) {
    throw new WebhookVerificationError(`webhook-timestamp is ${age} s away from now (tolerance ${tolerance} s)`);
  }
  const expected = Buffer.from(signWebhook(secret, id, timestamp, rawBody).slice(3), "base64");
  // During a secret rotation the header carries several signatures.
  for (const candidate of String(signatures).split(" ")) {
    const [version, sig] = candidate.split(",", 2);
    if (version !== "v1" || !sig) continue;
    const given = Buffer.from(sig, "base64");
    if (given.length === expected.length && timingSafeEqual(given, expected)) {
      const body = typeof rawBody === "string" ? rawBody : Buffer.from(rawBody).toString("utf8");
      return JSON.parse(body);
    }
  }
  throw new WebhookVerificationError("no webhook-signature matches");
}

/**
 * Create a payment link through the API. config is {baseURL, keyId,
 * secret}; params are API.md's (amount, currency, description, …). An
 * Idempotency-Key is generated unless given, and reused when the request is
 * retried after a network error, a 5xx, or 409 idempotency_key_in_use.
 */
export async function createPaymentLink(config, params, { idempotencyKey = randomUUID(), retries = 2, fetch: fetchFn = globalThis.fetch } = {}) {
  const { baseURL, keyId, secret } = config || {};
  if (!baseURL || !keyId || !secret) {
    throw new TypeError("createPaymentLink: config needs baseURL, keyId and secret");
  }
  const url = new URL("/v1/payment_links", baseURL).toString();
  const auth = "Basic " + Buffer.from(`${keyId}:${secret}`).toString("base64");
  let lastError;
  for (let attempt = 0; attempt <= retries; attempt++) {
    if (attempt > 0) await new Promise((r) => setTimeout(r, 250 * 2 ** (attempt - 1)));
    let res;
    try {
      res = await fetchFn(url, {
        method: "POST",
        headers: { Authorization: auth, "Content-Type": "application/json", "Idempotency-Key": idempotencyKey },
        body: JSON.stringify(params),
      });
    } catch (e) {
      lastError = e;
      continue;
    }
    const text = await res.text();
    let body;
    try {
      body = text ? JSON.parse(text) : undefined;
    } catch {
      body = undefined;
    }
    if (res.ok) return body;
    lastError = new PaylinkError(res.status, body, res.headers.get("x-request-id"));
    const inUse = res.status === 409 && lastError.code === "idempotency_key_in_use";
    if (res.status < 500 && !inUse) throw lastError;
  }
  throw lastError;
}

// RFC 3986 percent-encoding, the same on both sides of the signature.
function encode(value) {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => "%" + c.charCodeAt(0).toString(16).toUpperCase());
}

/**
 * The canonical string a stateless link's signature covers: a fixed
 * prefix line, then every parameter but `sig`, sorted by name, as
 * name=value with RFC 3986 percent-encoding, joined by "&".
 */
export function canonicalLinkString(params) {
  const names = Object.keys(params).filter((n) => n !== "sig" && params[n] !== undefined && params[n] !== null).sort();
  return "paylink-signed-link-v1\n" + names.map((n) => `${n}=${encode(String(params[n]))}`).join("&");
}

/**
 * Sign a stateless payment link offline with an API key secret; no API
 * call. The server verifies it at GET /pay/s, enforces its expiry, and
 * accepts one successful payment per merchant reference.
 * link: {keyId, amount, currency, reference, description?, successUrl?,
 * cancelUrl?, expiresAt? (Date or unix seconds) | expiresIn? (seconds)}.
 */
export function signLink(secret, link, { baseURL, now = Date.now } = {}) {
  if (typeof secret !== "string" || !secret.startsWith("sk_")) {
    throw new TypeError("signLink: secret must be an API key secret (sk_…)");
  }
  if (!baseURL) throw new TypeError("signLink: baseURL is required");
  const { keyId, amount, currency, reference, description, successUrl, cancelUrl } = link || {};
  if (!/^key_[0-9a-z]{26}$/.test(keyId || "")) throw new TypeError("signLink: keyId must be an API key id (key_…)");
  if (!Number.isInteger(amount) || amount < 1 || amount > 99999999) {
    throw new TypeError("signLink: amount must be an integer of minor units from 1 to 99999999");
  }
  if (!/^[A-Za-z]{3}$/.test(currency || "")) throw new TypeError("signLink: currency must be an ISO 4217 code");
  if (!/^[A-Za-z0-9._:-]{1,64}$/.test(reference || "")) {
    throw new TypeError("signLink: reference must be 1-64 characters of A-Z a-z 0-9 . _ : -");
  }
  let exp;
  if (link.expiresAt !== undefined) {
    exp = link.expiresAt instanceof Date ? Math.floor(link.expiresAt.getTime() / 1000) : Number(link.expiresAt);
  } else {
    exp = Math.floor(now() / 1000) + (link.expiresIn ?? 3600);
  }
  if (!Number.isInteger(exp)) throw new TypeError("signLink: expiresAt/expiresIn must give a whole unix time");
  const params = {
    key: keyId,
    amount: String(amount),
    currency: currency.toUpperCase(),
    ref: reference,
    exp: String(exp),
    description,
    success_url: successUrl,
    cancel_url: cancelUrl,
  };
  const sig = createHmac("sha256", secret).update(canonicalLinkString(params)).digest("base64url");
  const url = new URL("/pay/s", baseURL);
  for (const name of Object.keys(params).sort()) {
    if (params[name] !== undefined && params[name] !== null) url.searchParams.set(name, params[name]);
  }
  url.searchParams.set("sig", sig);
  return url.toString();
}
