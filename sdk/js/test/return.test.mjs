import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { verifyReturn, ReturnVerificationError } from "../return.mjs";
import * as server from "../server.mjs";

const root = new URL("../../../", import.meta.url);
const vectors = JSON.parse(readFileSync(new URL("testdata/return_vectors.json", root)));

test("verifyReturn accepts every valid return of the shared vectors", async () => {
  assert.ok(vectors.valid.length >= 4);
  for (const v of vectors.valid) {
    const got = await verifyReturn(v.url, vectors.keys);
    assert.deepEqual(got, { payment: v.payment, status: v.status, source: v.source, timestamp: v.ts, kid: v.kid }, v.name);
    // The keys array alone, and a URL object, work too.
    assert.deepEqual(await verifyReturn(new URL(v.url), vectors.keys.keys), got, v.name);
  }
});

test("verifyReturn refuses every edited or incomplete return", async () => {
  assert.ok(vectors.invalid.length >= 8);
  for (const v of vectors.invalid) {
    await assert.rejects(verifyReturn(v.url, vectors.keys), ReturnVerificationError, v.name);
  }
});

test("a key removed from the set no longer verifies its returns", async () => {
  const byOld = vectors.valid.find((v) => v.kid === "r1");
  const current = { keys: vectors.keys.keys.filter((k) => k.kid !== "r1") };
  await assert.rejects(verifyReturn(byOld.url, current), /no Ed25519 key "r1"/);
});

test("maxAge refuses an old return", async () => {
  const v = vectors.valid[0];
  const at = (s) => () => (v.ts + s) * 1000;
  assert.equal((await verifyReturn(v.url, vectors.keys, { maxAge: 600, now: at(600) })).payment, v.payment);
  await assert.rejects(verifyReturn(v.url, vectors.keys, { maxAge: 600, now: at(601) }), /more than maxAge 600 s/);
});

test("a runtime without Ed25519 is told so", async () => {
  const v = vectors.valid[0];
  const noEd25519 = {
    importKey: async () => {
      throw new DOMException("Unrecognized name.", "NotSupportedError");
    },
  };
  await assert.rejects(verifyReturn(v.url, vectors.keys, { subtle: noEd25519 }), /cannot use Ed25519 \(NotSupportedError\)/);
});

test("bad keys argument is a TypeError", async () => {
  await assert.rejects(verifyReturn(vectors.valid[0].url, "nope"), TypeError);
});

test("the Node entry exports verifyReturn", () => {
  assert.equal(server.verifyReturn, verifyReturn);
  assert.equal(server.ReturnVerificationError, ReturnVerificationError);
});
