// Verify the signed return Paylink sends a shopper back to your site with
// after a payment (API.md "Signed return to the merchant's site"). Runs in
// browsers and in Node alike: zero dependencies, WebCrypto's Ed25519 only.
//
// Paylink adds paylink_payment, paylink_status, paylink_source, paylink_ts,
// paylink_kid and paylink_sig to your success_url or cancel_url;
// paylink_sig is an Ed25519 signature of
// "v1.<payment>.<status>.<source>.<ts>" by the key paylink_kid of
// GET /.well-known/paylink-keys.json. Only those values are signed: the
// rest of your URL (your own parameters) is not, so read the order from
// what verifyReturn returns, never from your own parameters alone.

/** Thrown when a return's paylink_* parameters do not check out. */
export class ReturnVerificationError extends Error {
  constructor(message) {
    super(message);
    this.name = "ReturnVerificationError";
  }
}

const PARAMS = ["paylink_payment", "paylink_status", "paylink_source", "paylink_ts", "paylink_kid", "paylink_sig"];

function fromBase64url(text, what) {
  if (typeof text !== "string" || !/^[A-Za-z0-9_-]*$/.test(text)) {
    throw new ReturnVerificationError(`${what} is not base64url without padding`);
  }
  const bin = atob(text.replace(/-/g, "+").replace(/_/g, "/") + "=".repeat((4 - (text.length % 4)) % 4));
  const out = new Uint8Array(bin.length);
  for (let i = 0; i < bin.length; i++) out[i] = bin.charCodeAt(i);
  return out;
}

/**
 * Verify a return URL (string, URL or Location) against Paylink's public
 * keys (the JSON of /.well-known/paylink-keys.json, or its keys array).
 * Resolves to {payment, status, source, timestamp, kid}; rejects with a
 * ReturnVerificationError when a parameter is missing, repeated,
 * malformed, signed by an unknown key or does not verify, or when
 * options.maxAge (seconds) is given and the signature is older than that
 * at options.now() (milliseconds, default Date.now).
 *
 * It needs WebCrypto with Ed25519 (Chrome and Edge 137+, Firefox 129+,
 * Safari 17+, Node 18.4+, Deno, Bun). Node 18 has no global crypto: pass
 * options.subtle = (await import("node:crypto")).webcrypto.subtle. Where
 * Ed25519 is missing, the promise rejects saying so: verify on your server
 * instead.
 */
export async function verifyReturn(url, keys, options = {}) {
  const { maxAge, now = Date.now, subtle = globalThis.crypto && globalThis.crypto.subtle } = options;
  const q = new URL(String(url && url.href ? url.href : url)).searchParams;
  const v = {};
  for (const name of PARAMS) {
    const all = q.getAll(name);
    if (all.length !== 1) {
      throw new ReturnVerificationError(`${name} is ${all.length ? "given more than once" : "missing"}`);
    }
    v[name] = all[0];
  }
  const ts = v.paylink_ts;
  if (!/^[1-9][0-9]{0,15}$/.test(ts)) throw new ReturnVerificationError("paylink_ts is not a unix time");
  const list = Array.isArray(keys) ? keys : keys && keys.keys;
  if (!Array.isArray(list)) throw new TypeError("verifyReturn: keys must be Paylink's key set ({keys: [...]}) or its keys array");
  const key = list.find((k) => k && k.kid === v.paylink_kid && k.alg === "Ed25519");
  if (!key) throw new ReturnVerificationError(`no Ed25519 key ${JSON.stringify(v.paylink_kid)} among the keys given`);
  const sig = fromBase64url(v.paylink_sig, "paylink_sig");
  const raw = fromBase64url(key.public_key, "public_key");
  if (sig.length !== 64 || raw.length !== 32) throw new ReturnVerificationError("paylink_sig or the public key has the wrong length");
  if (!subtle) {
    throw new ReturnVerificationError("this runtime has no WebCrypto (crypto.subtle); pass options.subtle, or verify on your server");
  }
  let publicKey;
  try {
    publicKey = await subtle.importKey("raw", raw, { name: "Ed25519" }, false, ["verify"]);
  } catch (e) {
    throw new ReturnVerificationError(`this runtime's WebCrypto cannot use Ed25519 (${e && e.name}); verify on your server instead`);
  }
  const payload = `v1.${v.paylink_payment}.${v.paylink_status}.${v.paylink_source}.${ts}`;
  const ok = await subtle.verify({ name: "Ed25519" }, publicKey, sig, new TextEncoder().encode(payload));
  if (!ok) throw new ReturnVerificationError("paylink_sig does not match: the return was edited or not made by Paylink");
  const timestamp = Number(ts);
  if (maxAge !== undefined && now() / 1000 - timestamp > maxAge) {
    throw new ReturnVerificationError(`the return was signed ${Math.floor(now() / 1000 - timestamp)} s ago, more than maxAge ${maxAge} s`);
  }
  return { payment: v.paylink_payment, status: v.paylink_status, source: v.paylink_source, timestamp, kid: v.paylink_kid };
}
