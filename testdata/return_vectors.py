#!/usr/bin/env python3
"""Writes testdata/return_vectors.json: signed returns to a merchant's site,
computed with the openssl command line (Ed25519), independently of the Go
signer (internal/returnurl) and the JS verifier (sdk/js verifyReturn),
which both test against the file. Run from the repository root:

    python3 testdata/return_vectors.py > testdata/return_vectors.json
"""
import base64
import json
import subprocess
import tempfile
from urllib.parse import quote_plus

PKCS8_ED25519 = bytes.fromhex("302e020100300506032b657004220420")


def b64url(b):
    return base64.urlsafe_b64encode(b).rstrip(b"=").decode()


def openssl(args, data=None):
    return subprocess.run(["openssl"] + args, input=data, capture_output=True, check=True).stdout


def with_files(seed, message, fn):
    """Runs fn(key path, message path) with the PKCS#8 DER key of seed and
    message in temporary files."""
    with tempfile.NamedTemporaryFile(suffix=".der") as k, tempfile.NamedTemporaryFile() as m:
        k.write(PKCS8_ED25519 + seed)
        k.flush()
        m.write(message.encode())
        m.flush()
        return fn(k.name, m.name)


def public_key(seed):
    der = with_files(seed, "", lambda k, _: openssl(["pkey", "-inform", "DER", "-in", k, "-pubout", "-outform", "DER"]))
    return der[-32:]


def sign(seed, message):
    return with_files(seed, message, lambda k, m: openssl(
        ["pkeyutl", "-sign", "-keyform", "DER", "-inkey", k, "-rawin", "-in", m]))


SEEDS = {"r2": bytes(range(32)), "r1": bytes(range(32, 64))}
KEYS = {"keys": [{"kid": kid, "alg": "Ed25519", "public_key": b64url(public_key(seed))} for kid, seed in SEEDS.items()]}


def signed_url(target, payment, status, source, ts, kid):
    """target is the merchant's URL with {PAYMENT_ID} already replaced; the
    paylink_* parameters go after its own query, before its fragment."""
    base, _, fragment = target.partition("#")
    sig = sign(SEEDS[kid], f"v1.{payment}.{status}.{source}.{ts}")
    ours = [("paylink_payment", payment), ("paylink_status", status), ("paylink_source", source),
            ("paylink_ts", str(ts)), ("paylink_kid", kid), ("paylink_sig", b64url(sig))]
    query = "&".join(f"{n}={quote_plus(v, safe='')}" for n, v in ours)
    url = base + ("&" if "?" in base else "?") + query
    return url + ("#" + fragment if fragment else "")


PAY = "pay_01m8c0ffee0000000000000000"
LINK = "plink_01m8c0ffee0000000000000001"
FORM = "pform_01m8c0ffee0000000000000002"
MERCHANT = "mer_01m8c0ffee0000000000000003"
TS = 1798761600

valid = [
    dict(name="success_url with its own query and fragment, signed by the current key",
         target="https://shop.test/ok?order=A-17&lang=en#done", sent="https://shop.test/ok?order=A-17&lang=en#done",
         payment=PAY, status="succeeded", source=LINK, ts=TS, kid="r2"),
    dict(name="{PAYMENT_ID} in the path (as stored, escaped) and in the query",
         target="https://shop.test/thanks/%7BPAYMENT_ID%7D?p={PAYMENT_ID}",
         sent=f"https://shop.test/thanks/{PAY}?p={PAY}",
         payment=PAY, status="succeeded", source=LINK, ts=TS + 1, kid="r2"),
    dict(name="a failed challenge back to a form's cancel page, signed by the previous key during a rotation",
         target="http://localhost:3000/cancel", sent="http://localhost:3000/cancel",
         payment=PAY, status="failed", source=FORM, ts=TS + 2, kid="r1"),
    dict(name="a stateless signed link: its source is the merchant and its reference",
         target="https://shop.test/ok?ref=order%2017", sent="https://shop.test/ok?ref=order%2017",
         payment=PAY, status="succeeded", source=f"{MERCHANT}:order-17.b_c", ts=TS + 3, kid="r2"),
    dict(name="paylink_ parameters the merchant's URL already had are dropped",
         target="https://shop.test/ok?paylink_status=failed&x=1",
         sent="https://shop.test/ok?x=1",
         payment=PAY, status="succeeded", source=LINK, ts=TS + 4, kid="r2"),
]
for v in valid:
    v["url"] = signed_url(v["sent"], v["payment"], v["status"], v["source"], v["ts"], v["kid"])
    del v["sent"]

good = valid[0]["url"]
sig = good.split("paylink_sig=")[1].split("#")[0]
invalid = [
    ("payment edited", good.replace("paylink_payment=pay_01m8c0ffee0000000000000000", "paylink_payment=pay_01m8c0ffee0000000000000009")),
    ("status edited", good.replace("paylink_status=succeeded", "paylink_status=failed")),
    ("source edited", good.replace("paylink_source=plink_01m8c0ffee0000000000000001", "paylink_source=plink_01m8c0ffee0000000000000008")),
    ("timestamp edited", good.replace(f"paylink_ts={TS}", f"paylink_ts={TS + 1}")),
    ("timestamp not canonical", good.replace(f"paylink_ts={TS}", f"paylink_ts=0{TS}")),
    ("kid of the other key", good.replace("paylink_kid=r2", "paylink_kid=r1")),
    ("unknown kid", good.replace("paylink_kid=r2", "paylink_kid=r9")),
    ("signature edited", good.replace(sig, ("A" if sig[0] != "A" else "B") + sig[1:])),
    ("signature cut short", good.replace(sig, sig[:-4])),
    ("signature missing", good.split("&paylink_sig=")[0]),
    ("status given twice", good.replace("#done", "&paylink_status=failed#done")),
]

print(json.dumps({
    "description": "Signed returns to a merchant's site (API.md Part 2). The platform adds paylink_payment, "
                   "paylink_status, paylink_source, paylink_ts, paylink_kid and paylink_sig to the merchant's "
                   "success_url or cancel_url; paylink_sig = base64url(Ed25519(key[kid], "
                   "\"v1.<payment>.<status>.<source>.<ts>\")) without padding. keys is what "
                   "GET /.well-known/paylink-keys.json answers; seeds are the private keys' 32-byte seeds "
                   "(hex), for the Go signer's test. Each valid case gives target (the merchant's URL as stored) "
                   "and the URL the shopper is sent to. Computed with the openssl command line by "
                   "testdata/return_vectors.py, independently of both implementations.",
    "keys": KEYS,
    "seeds": {kid: seed.hex() for kid, seed in SEEDS.items()},
    "valid": valid,
    "invalid": [{"name": n, "url": u} for n, u in invalid],
}, indent=2, ensure_ascii=False))
