#!/usr/bin/env python3
"""Signs fresh random webhooks with Python's hmac for every hex/base64 scheme (Bird included) and prints them as
test-vector cases (the JSON format of tests/vectors/). Bodies are random bytes (bodyHex), random
UTF-8 text, or empty. hookseal must accept each, and reject its tampered twin (tests/xlib.rs).

Usage: python3 tests/xlib/sign.py [count-per-scheme]
"""

import base64
import hashlib
import hmac
import json
import random
import secrets
import sys
import time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 25
NOW = int(time.time())
rng = random.SystemRandom()


def mac(alg, key, msg):
    return hmac.new(key, msg, getattr(hashlib, alg)).digest()


def body():
    kind = rng.choice(["bytes", "text", "empty"])
    if kind == "bytes":
        return {"bodyHex": secrets.token_bytes(rng.randint(1, 4096)).hex()}
    if kind == "empty":
        return {"body": ""}
    return {"body": "".join(rng.choice("aé👍中 {}\":,\\\n") for _ in range(rng.randint(1, 500)))}


def raw(b):
    return bytes.fromhex(b["bodyHex"]) if "bodyHex" in b else b["body"].encode()


def secret():
    return secrets.token_urlsafe(rng.randint(8, 48))


def sign_all():
    cases = []
    for i in range(N):
        s, b, ts, ident = secret(), body(), NOW - rng.randint(0, 290), f"id-{secrets.token_hex(6)}"
        r = raw(b)
        std_key = secrets.token_bytes(rng.randint(16, 64))
        std_secret = "whsec_" + base64.b64encode(std_key).decode()
        out = {
            "moltflow": ([["X-Webhook-Hmac", mac("sha512", s.encode(), r).hex()],
                          ["X-Webhook-Hmac-Algorithm", "sha512"]], "X-Webhook-Hmac", {}),
            "mossmoon": ([["X-Mossmoon-Signature", mac("sha256", s.encode(), r).hex()]],
                         "X-Mossmoon-Signature", {}),
            "meta": ([["X-Hub-Signature-256", "sha256=" + mac("sha256", s.encode(), r).hex()]],
                     "X-Hub-Signature-256", {}),
            "shopify": ([["X-Shopify-Hmac-Sha256",
                          base64.b64encode(mac("sha256", s.encode(), r)).decode()],
                         # Not signed: verification never reports it as the id.
                         ["X-Shopify-Webhook-Id", ident]], "X-Shopify-Hmac-Sha256", {}),
            "slack": ([["X-Slack-Request-Timestamp", str(ts)],
                       ["X-Slack-Signature", "v0=" + mac("sha256", s.encode(),
                                                         f"v0:{ts}:".encode() + r).hex()]],
                      "X-Slack-Signature", {"timestamp": ts}),
            "stripe": ([["Stripe-Signature", f"t={ts},v1=" + mac("sha256", s.encode(),
                                                                  f"{ts}.".encode() + r).hex()]],
                       "Stripe-Signature", {"timestamp": ts}),
            "hubspot": ([["X-HubSpot-Request-Timestamp", str(ts * 1000)],
                         ["X-HubSpot-Signature-v3", base64.b64encode(mac(
                             "sha256", s.encode(),
                             b"POST" + b"https://h.example/hook?a=1" + r + str(ts * 1000).encode()
                         )).decode()]], "X-HubSpot-Signature-v3", {"timestamp": ts}),
            "standard-webhooks": ([["webhook-id", ident], ["webhook-timestamp", str(ts)],
                                   ["webhook-signature", "v1," + base64.b64encode(mac(
                                       "sha256", std_key, f"{ident}.{ts}.".encode() + r)).decode()]],
                                  "webhook-signature", {"id": ident, "timestamp": ts}),
            # Bird: timestamp, URL and the body's raw SHA-256, newline-separated; retried
            # deliveries keep their first timestamp, so this one is hours old.
            "bird": ([["messagebird-request-timestamp", str(ts - 4 * 3600)],
                      ["messagebird-signature", base64.b64encode(mac(
                          "sha256", s.encode(),
                          f"{ts - 4 * 3600}\nhttps://h.example/hook?a=1\n".encode()
                          + hashlib.sha256(r).digest())).decode()]],
                     "messagebird-signature", {"timestamp": ts - 4 * 3600}),
        }
        for scheme, (headers, sig_header, extra) in out.items():
            c = {"name": f"python hmac {scheme} #{i}", "scheme": scheme,
                 "secrets": [std_secret if scheme == "standard-webhooks" else s], "now": NOW,
                 "headers": headers, "expect": {"ok": {"secretIndex": 0, **extra}},
                 "signatureHeader": sig_header, **b}
            if scheme in ("hubspot", "bird"):
                c["method"], c["url"] = "POST", "https://h.example/hook?a=1"
            cases.append(c)
    return cases


print(json.dumps({"cases": sign_all()}, ensure_ascii=False))
