#!/usr/bin/env python3
"""Writes tests/vectors/schemes.json: per-scheme test vectors signed with Python's own hmac.

Every signature here is computed by this script with Python's standard library (hmac, hashlib,
base64), independently of hookseal's Rust code, from each provider's documented signing rule;
Standard Webhooks' Ed25519 (`v1a`) signatures come from RFC 8032's own Python (rfc8032.py),
checked against the RFC's test vectors first.
The output is committed; `make vectors-check` regenerates it and fails on any difference, so the
data and the rules below cannot drift apart.

The vectors cover, for every scheme: a valid request that re-signs to the same headers, non-ASCII
and emoji bodies, an empty body, tampered body, tampered signature, wrong secret, a rotated secret,
multi-signature headers, missing and malformed headers, and the timestamp boundaries.
"""

import base64
import hashlib
import hmac
import json
import os
import re
import sys
import urllib.parse

import rfc8032

NOW = 1_760_000_000
BODY = '{"event":"message.received","data":{"from":"5511999990000","body":"Olá! Preço? 👍"}}'
EMOJI = '{"text":"🎉🔥 ünïcödé ✓ 中文 العربية"}'


def mac(alg, key, msg):
    return hmac.new(key, msg, getattr(hashlib, alg)).digest()


def hexsig(alg, key, msg):
    return mac(alg, key, msg).hex()


def b64sig(alg, key, msg):
    return base64.b64encode(mac(alg, key, msg)).decode()


def flip_hex(s):
    """Changes one hex digit in the middle, keeping it valid hex."""
    i = len(s) // 2
    return s[:i] + ("0" if s[i] != "0" else "1") + s[i + 1:]


def flip_b64(s):
    """Changes one base64 character in the middle, keeping it valid base64."""
    i = len(s) // 3
    return s[:i] + ("A" if s[i] != "A" else "B") + s[i + 1:]


def tamper_body(b):
    return b.replace("e", "E", 1) if "e" in b else b + " "


class Scheme:
    """One provider's signing rule, written out from its documentation."""

    def __init__(self, name, sign, secret, hex_sig=True, ts=False, list_prefix=None, url=None,
                 window=(300, 300)):
        self.name, self.sign_fn, self.secret = name, sign, secret
        self.hex_sig, self.ts, self.list_prefix = hex_sig, ts, list_prefix
        # The URL the sender posted to, for schemes that sign it; the default replay window.
        self.url, self.window = url, window

    def sign(self, body, secret=None, ts=NOW, id_="msg_2KWPBgLlAfxdpx2AI54pPJ85f4W", **kw):
        return self.sign_fn(body.encode(), (secret or self.secret), ts, id_, **kw)


def moltflow(body, secret, ts, id_):
    return [["X-Webhook-Hmac", hexsig("sha512", secret.encode(), body)],
            ["X-Webhook-Hmac-Algorithm", "sha512"]]


def mossmoon(body, secret, ts, id_):
    return [["X-Mossmoon-Signature", hexsig("sha256", secret.encode(), body)]]


def meta(body, secret, ts, id_):
    return [["X-Hub-Signature-256", "sha256=" + hexsig("sha256", secret.encode(), body)]]


# GitHub and Shopify also send a delivery id (X-GitHub-Delivery, X-Shopify-Webhook-Id), outside
# the signature: it is no part of the scheme, so the vectors leave it out.
def github(body, secret, ts, id_):
    return [["X-Hub-Signature-256", "sha256=" + hexsig("sha256", secret.encode(), body)]]


def shopify(body, secret, ts, id_):
    return [["X-Shopify-Hmac-Sha256", b64sig("sha256", secret.encode(), body)]]


def whsec_key(secret):
    return base64.b64decode(secret.removeprefix("whsec_"))


def std_webhooks(prefix):
    def sign(body, secret, ts, id_):
        msg = f"{id_}.{ts}.".encode() + body
        return [[prefix + "id", id_], [prefix + "timestamp", str(ts)],
                [prefix + "signature", "v1," + b64sig("sha256", whsec_key(secret), msg)]]
    return sign


def stripe(body, secret, ts, id_):
    sig = hexsig("sha256", secret.encode(), f"{ts}.".encode() + body)
    return [["Stripe-Signature", f"t={ts},v1={sig}"]]


def slack(body, secret, ts, id_):
    sig = hexsig("sha256", secret.encode(), f"v0:{ts}:".encode() + body)
    return [["X-Slack-Request-Timestamp", str(ts)], ["X-Slack-Signature", "v0=" + sig]]


HUBSPOT_URL = "https://example.com/webhooks/hubspot?portal=123&x=a%3Ab"
HUBSPOT_URL_DECODED = "https://example.com/webhooks/hubspot?portal=123&x=a:b"


def hubspot(body, secret, ts, id_, method="POST"):
    ms = str(ts * 1000)
    msg = method.encode() + HUBSPOT_URL_DECODED.encode() + body + ms.encode()
    return [["X-HubSpot-Request-Timestamp", ms],
            ["X-HubSpot-Signature-v3", b64sig("sha256", secret.encode(), msg)]]


TWILIO_URL = "https://example.com/webhooks/twilio?source=wa"


def form_decode(b):
    """One component as Express's qs decodes it: + is a space, then decodeURIComponent; when
    that fails (a bad escape, or escapes that are not UTF-8), the component with + as space."""
    spaced = b.replace(b"+", b" ")
    if re.search(rb"%(?![0-9A-Fa-f]{2})", spaced):
        return spaced.decode("utf-8", "replace")
    try:
        return urllib.parse.unquote_to_bytes(spaced).decode("utf-8")
    except UnicodeDecodeError:
        return spaced.decode("utf-8", "replace")


def form_params(body):
    """A form body's parameters, as twilio-node sees them through Express."""
    out = []
    for piece in body.split(b"&"):
        if not piece:
            continue
        name, _, value = piece.partition(b"=")
        out.append((form_decode(name), form_decode(value)))
    return out


def twilio_data(url, body):
    """Twilio's signed string, as twilio-node builds it: the URL, then for a form body each
    parameter sorted by name (JavaScript's UTF-16 order), a repeated one once per distinct value;
    nothing after the URL when it carries bodySHA256 (a JSON body)."""
    if "bodySHA256=" in url:
        return url.encode()
    utf16 = lambda s: s.encode("utf-16-be")
    params = sorted(set(form_params(body)), key=lambda kv: (utf16(kv[0]), utf16(kv[1])))
    return (url + "".join(k + v for k, v in params)).encode()


def twilio(body, secret, ts, id_, url=TWILIO_URL):
    return [["X-Twilio-Signature", b64sig("sha1", secret.encode(), twilio_data(url, body))]]


def b64url(b):
    return base64.urlsafe_b64encode(b).decode().rstrip("=")


def jwt(secret, claims, header=None):
    """An HS256 JWT as Vonage sends it (and as any JWT library writes one)."""
    h = b64url(json.dumps(header or {"alg": "HS256", "typ": "JWT"}, separators=(",", ":")).encode())
    p = b64url(json.dumps(claims, separators=(",", ":")).encode())
    sig = b64url(mac("sha256", secret.encode(), f"{h}.{p}".encode()))
    return f"{h}.{p}.{sig}"


def vonage_claims(body, ts):
    """Vonage's claims: `iat`, `jti`, and `payload_hash`, the body's hex SHA-256. The jti here is
    the one hookseal's signer derives, so that a re-signed vector matches byte for byte."""
    digest = hashlib.sha256(body).hexdigest()
    return {"iat": ts, "jti": f"{ts}-{digest}"[:32], "payload_hash": digest}


def vonage(body, secret, ts, id_):
    return [["Authorization", "Bearer " + jwt(secret, vonage_claims(body, ts))]]


BIRD_URL = "https://example.com/webhooks/bird?channel=wa"


def bird(body, secret, ts, id_, url=BIRD_URL):
    msg = f"{ts}\n{url}\n".encode() + hashlib.sha256(body).digest()
    return [["messagebird-request-timestamp", str(ts)],
            ["messagebird-signature", b64sig("sha256", secret.encode(), msg)]]


STD_SECRET = "whsec_" + base64.b64encode(bytes(range(1, 33))).decode()
SCHEMES = [
    Scheme("moltflow", moltflow, "mf_5ecret-Th1s-is-a-long-random-string"),
    Scheme("mossmoon", mossmoon, "mm_whsec_9f8e7d6c5b4a"),
    Scheme("meta", meta, "4f1c0e2b8a9d7f6e5d4c3b2a1f0e9d8c"),
    Scheme("github", github, "It's a Secret to Everybody"),
    Scheme("shopify", shopify, "shpss_0123456789abcdef0123456789abcdef", hex_sig=False),
    Scheme("standard-webhooks", std_webhooks("webhook-"), STD_SECRET, hex_sig=False, ts=True,
           list_prefix="v1,"),
    Scheme("svix", std_webhooks("svix-"), STD_SECRET, hex_sig=False, ts=True, list_prefix="v1,"),
    Scheme("stripe", stripe, "whsec_stripe_test_5ecret", ts=True),
    Scheme("slack", slack, "8f742231b10e8888abcd99yyyzzz85a5", ts=True),
    Scheme("hubspot", hubspot, "hubspot-client-secret-1234", hex_sig=False, ts=True,
           url=HUBSPOT_URL),
    Scheme("waha", moltflow, "waha-hmac-key-0123456789"),
    Scheme("twilio", twilio, "twilio-auth-token-0123456789abcdef", hex_sig=False, url=TWILIO_URL),
    # Vonage's retries may carry their first token: its window reaches back 26 hours.
    Scheme("vonage", vonage, "vonage-signature-secret-0123456789", hex_sig=False, ts=True,
           window=(26 * 3600, 300)),
    # Bird re-sends the original timestamp on retries: its window reaches back 26 hours.
    Scheme("bird", bird, "bird-signing-key-0123456789", hex_sig=False, ts=True, url=BIRD_URL,
           window=(26 * 3600, 300)),
]

SIG_HEADER = {
    "moltflow": "X-Webhook-Hmac", "mossmoon": "X-Mossmoon-Signature",
    "meta": "X-Hub-Signature-256", "github": "X-Hub-Signature-256",
    "shopify": "X-Shopify-Hmac-Sha256", "standard-webhooks": "webhook-signature",
    "svix": "svix-signature", "stripe": "Stripe-Signature", "slack": "X-Slack-Signature",
    "hubspot": "X-HubSpot-Signature-v3", "waha": "X-Webhook-Hmac",
    "twilio": "X-Twilio-Signature", "bird": "messagebird-signature", "vonage": "Authorization",
}
TS_HEADER = {
    "standard-webhooks": "webhook-timestamp", "svix": "svix-timestamp",
    "slack": "X-Slack-Request-Timestamp", "hubspot": "X-HubSpot-Request-Timestamp",
    "bird": "messagebird-request-timestamp",
}
# Schemes whose verification reports an id: only a signed one counts. GitHub and Shopify send
# a delivery id too, but outside the signature, so `verified` never carries it.
ID_OF = {"standard-webhooks", "svix"}


def set_header(headers, name, fn):
    return [[k, fn(v)] if k.lower() == name.lower() else [k, v] for k, v in headers]


def h_value(headers, name):
    return next(v for k, v in headers if k.lower() == name.lower())


def drop_header(headers, name):
    return [[k, v] for k, v in headers if k.lower() != name.lower()]


def tamper_sig(s, scheme):
    if scheme.name == "vonage":
        head, sig = s.rsplit(".", 1)
        return head + "." + flip_b64(sig)
    if scheme.name == "stripe":
        t, v1 = s.split(",v1=")
        return t + ",v1=" + flip_hex(v1)
    prefix = {"meta": "sha256=", "github": "sha256=", "slack": "v0=", "standard-webhooks": "v1,",
              "svix": "v1,"}.get(scheme.name, "")
    raw = s[len(prefix):]
    return prefix + (flip_hex(raw) if scheme.hex_sig else flip_b64(raw))


def case(name, scheme, headers, body, expect, secrets=None, now=NOW, resign=False, **extra):
    c = {"name": f"{scheme.name}: {name}", "scheme": scheme.name,
         "secrets": [scheme.secret] if secrets is None else secrets, "now": now, "headers": headers, "body": body}
    if scheme.url:
        c["method"], c["url"] = "POST", scheme.url
    c.update(extra)
    c["expect"] = expect
    if resign:
        c["resign"] = True
    return c


def ok(scheme, secret_index=0, ts=NOW, id_="msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"):
    o = {"secretIndex": secret_index}
    if scheme.name in ID_OF:
        o["id"] = id_
    if scheme.ts:
        o["timestamp"] = ts
    return {"ok": o}


def err(code):
    return {"error": code}


def scheme_cases(s):
    out = []
    h = s.sign(BODY)
    sig = SIG_HEADER[s.name]
    out.append(case("valid", s, h, BODY, ok(s), resign=True))
    out.append(case("non-ASCII and emoji body", s, s.sign(EMOJI), EMOJI, ok(s), resign=True))
    out.append(case("empty body", s, s.sign(""), "", ok(s), resign=True))
    out.append(case("tampered body", s, h, tamper_body(BODY), err("signature_mismatch")))
    out.append(case("body re-serialised with spaces", s, h,
                    json.dumps(json.loads(BODY), ensure_ascii=False), err("signature_mismatch")))
    out.append(case("non-ASCII escaped as \\u (different bytes)", s, h,
                    json.dumps(json.loads(BODY), separators=(",", ":")),
                    err("signature_mismatch")))
    out.append(case("tampered signature", s, set_header(h, sig, lambda v: tamper_sig(v, s)), BODY,
                    err("signature_mismatch")))
    out.append(case("wrong secret", s, s.sign(BODY, secret=s.secret[:-3] + "xyz"
                                               if s.name not in ("standard-webhooks", "svix")
                                               else "whsec_" + base64.b64encode(b"w" * 32).decode()),
                    BODY, err("signature_mismatch")))
    other = ("whsec_" + base64.b64encode(b"o" * 24).decode()
             if s.name in ("standard-webhooks", "svix") else s.secret + "-old")
    out.append(case("rotated: signed with the second secret", s, h, BODY, ok(s, 1),
                    secrets=[other, s.secret]))
    out.append(case("rotated: signed with the first secret", s, h, BODY, ok(s, 0),
                    secrets=[s.secret, other]))
    out.append(case("missing signature header", s, drop_header(h, sig), BODY,
                    err("missing_header")))
    out.append(case("empty signature header", s, set_header(h, sig, lambda v: ""), BODY,
                    err("missing_header")))
    out.append(case("header names in lower case", s, [[k.lower(), v] for k, v in h], BODY, ok(s)))
    out.append(case("header names in upper case", s, [[k.upper(), v] for k, v in h], BODY, ok(s)))
    if s.name != "stripe":
        out.append(case("signature cut short", s, set_header(h, sig, lambda v: v[:-8]), BODY,
                        err("malformed_signature")))
        out.append(case("signature not encoded", s,
                        set_header(h, sig, lambda v: v[:len(v) - 44] + "!" * 44), BODY,
                        err("malformed_signature")))
    if not s.hex_sig and s.name != "vonage":
        # Signatures keep their padding, as the reference libraries compare the encoded strings.
        assert h_value(h, sig).endswith("="), "the case needs a padded signature"
        out.append(case("signature without its base64 padding", s,
                        set_header(h, sig, lambda v: v.rstrip("=")), BODY,
                        err("malformed_signature")))
    if s.hex_sig:
        out.append(case("upper-case hex", s, set_header(h, sig, lambda v: v.upper()
                   if s.name in ("moltflow", "mossmoon", "waha") else
                   v.split("=", 1)[0] + "=" + v.split("=", 1)[1].upper()
                   if s.name != "stripe" else v.split(",v1=")[0] + ",v1=" + v.split(",v1=")[1].upper()),
                        BODY, ok(s)))
    if s.ts:
        tsh = TS_HEADER.get(s.name)
        future_ok = s.name == "stripe"
        past, future = s.window
        for delta, expect_ok in [(-past, True), (-past - 1, False), (future, True),
                                 (future + 1, future_ok)]:
            hh = s.sign(BODY, ts=NOW + delta)
            if expect_ok:
                e = ok(s, ts=NOW + delta)
            else:
                e = err("timestamp_too_old" if delta < 0 else "timestamp_in_future")
            out.append(case(f"timestamp {delta:+d} s", s, hh, BODY, e))
        ancient = s.sign(BODY, ts=NOW - 86_400 * 30)
        out.append(case("30-day-old timestamp, tolerance disabled", s, ancient, BODY,
                        ok(s, ts=NOW - 86_400 * 30), tolerance={"past": None, "future": None}))
        out.append(case("30-day-old timestamp, tolerance widened to 31 days", s, ancient, BODY,
                        ok(s, ts=NOW - 86_400 * 30), tolerance={"past": 86_400 * 31, "future": 300}))
        if s.name == "vonage":
            # The claims re-encoded with a later iat, under the first token's signature.
            tok = h[0][1].removeprefix("Bearer ")
            hd, _, sg = tok.split(".")
            fresh = b64url(json.dumps({**vonage_claims(BODY.encode(), NOW), "iat": NOW + 1},
                                      separators=(",", ":")).encode())
            replayed = [["Authorization", f"Bearer {hd}.{fresh}.{sg}"]]
        elif tsh:
            replayed = set_header(h, tsh, lambda v: str(int(v) + (1000 if s.name == "hubspot" else 1)))
        else:
            replayed = [[k, v.replace(f"t={NOW}", f"t={NOW + 1}")] for k, v in h]
        out.append(case("replayed with a fresh timestamp", s, replayed, BODY,
                        err("signature_mismatch")))
        if tsh:
            out.append(case("malformed timestamp", s, set_header(h, tsh, lambda v: v + "x"), BODY,
                            err("malformed_timestamp")))
            out.append(case("negative timestamp", s, set_header(h, tsh, lambda v: "-" + v), BODY,
                            err("malformed_timestamp")))
            out.append(case("missing timestamp", s, drop_header(h, tsh), BODY,
                            err("missing_header")))
    if s.list_prefix:
        other_sig = "v1," + base64.b64encode(b"x" * 32).decode()
        out.append(case("several signatures, the valid one last", s,
                        set_header(h, sig, lambda v: f"{other_sig} v1a,{'A' * 86}== {v}"), BODY,
                        ok(s)))
        out.append(case("several signatures, none valid", s,
                        set_header(h, sig, lambda v: f"{other_sig} v1,{flip_b64(v[3:])}"), BODY,
                        err("signature_mismatch")))
        out.append(case("only a v1a entry, and no whpk_ key to check it", s,
                        set_header(h, sig, lambda v: "v1a," + v[3:]), BODY,
                        err("malformed_signature")))
        out.append(case("missing id", s, drop_header(h, s.name == "svix" and "svix-id"
                                                     or "webhook-id"), BODY,
                        err("missing_header")))
        out.append(case("secret given without whsec_ prefix", s, h, BODY, ok(s),
                        secrets=[s.secret.removeprefix("whsec_")]))
        # Secrets pasted without their padding are accepted, as Python's reference library does.
        assert s.secret.endswith("="), "the case needs a padded secret"
        out.append(case("secret given without its base64 padding", s, h, BODY, ok(s),
                        secrets=[s.secret.rstrip("=")]))
        out.append(case("secret whose last character carries spare bits (Python decodes it)", s,
                        h, BODY, ok(s), secrets=[spare_bits(s.secret)]))
        out.append(case("decoded key shorter than 16 bytes", s, h, BODY, err("invalid_secret"),
                        secrets=["whsec_" + base64.b64encode(b"short").decode()]))
        out.append(case("secret is not base64", s, h, BODY, err("invalid_secret"),
                        secrets=["whsec_not*base64*at*all"]))
        out.append(case("id tampered", s, set_header(h, s.name == "svix" and "svix-id"
                                                     or "webhook-id", lambda v: v + "x"),
                        BODY, err("signature_mismatch")))
    return out


def special_cases():
    by = {s.name: s for s in SCHEMES}
    mf, sw, st, hs, sv = by["moltflow"], by["standard-webhooks"], by["stripe"], by["hubspot"], by["svix"]
    h = mf.sign(BODY)
    out = [
        case("algorithm header says sha256 (downgrade attempt)", mf,
             set_header(h, "X-Webhook-Hmac-Algorithm", lambda v: "sha256"), BODY,
             err("algorithm_mismatch")),
        case("algorithm header in upper case", mf,
             set_header(h, "X-Webhook-Hmac-Algorithm", lambda v: "SHA512"), BODY, ok(mf)),
        case("algorithm header absent", mf, drop_header(h, "X-Webhook-Hmac-Algorithm"), BODY,
             ok(mf)),
        case("a SHA-256 signature where SHA-512 is configured", mf,
             [["X-Webhook-Hmac", hexsig("sha256", mf.secret.encode(), BODY.encode())]], BODY,
             err("malformed_signature")),
        case("secret with a trailing newline", mf, h, BODY, err("invalid_secret"),
             secrets=[mf.secret + "\n"]),
        case("a signature pasted as the secret", mf, h, BODY, err("invalid_secret"),
             secrets=["sha256=" + "ab" * 32]),
        case("no secrets", mf, h, BODY, err("invalid_config"), secrets=[]),
        case("svix headers accepted by standard-webhooks", sw, sv.sign(BODY), BODY, ok(sw)),
        case("webhook- headers accepted by svix", sv, sw.sign(BODY), BODY, ok(sv)),
    ]
    sh = st.sign(BODY)
    sig = sh[0][1].split(",v1=")[1]
    out += [
        case("several v1 signatures and a v0", st,
             [["Stripe-Signature", f"t={NOW},v1={'0' * 64},v0={'1' * 64},v1={sig}"]], BODY, ok(st)),
        case("only v0", st, [["Stripe-Signature", f"t={NOW},v0={sig}"]], BODY,
             err("malformed_signature")),
        case("no t=", st, [["Stripe-Signature", f"v1={sig}"]], BODY, err("malformed_signature")),
        case("two t=", st, [["Stripe-Signature", f"t={NOW},t={NOW},v1={sig}"]], BODY,
             err("malformed_signature")),
        case("t= not a number", st, [["Stripe-Signature", f"t=soon,v1={sig}"]], BODY,
             err("malformed_timestamp")),
        case("signed with the base64-decoded key (whsec_ is not decoded for Stripe)", st,
             [["Stripe-Signature", f"t={NOW},v1=" + hexsig(
                 "sha256", b"whsec_stripe_test_5ecret"[6:], f"{NOW}.".encode() + BODY.encode())]],
             BODY, err("signature_mismatch")),
    ]
    hh = hs.sign(BODY)
    out += [
        case("no method and URL given", hs, hh, BODY, err("missing_request_target"),
             method=None, url=None),
        case("the method left out is POST", hs, hh, BODY, ok(hs), method=None, resign=True),
        case("the method but no URL", hs, hh, BODY, err("missing_request_target"), url=None),
        case("a PUT signed and verified as PUT", hs, hs.sign(BODY, method="PUT"), BODY, ok(hs),
             method="PUT", resign=True),
        case("a PUT signed, the method left out (POST)", hs, hs.sign(BODY, method="PUT"), BODY,
             err("signature_mismatch"), method=None),
        case("URL with the escape already decoded", hs, hh, BODY, ok(hs),
             url=HUBSPOT_URL_DECODED),
        case("different path", hs, hh, BODY, err("signature_mismatch"),
             url=HUBSPOT_URL.replace("hubspot?", "hubspot2?")),
        case("different method", hs, hh, BODY, err("signature_mismatch"), method="PUT"),
    ]
    out += twilio_cases(by["twilio"]) + bird_cases(by["bird"]) + vonage_cases(by["vonage"])
    out += v1a_cases(sw)
    for c in out:
        for k in ("method", "url"):
            if c.get(k, "") is None:
                del c[k]
    return out


# A Twilio WhatsApp message as Twilio posts it: form-encoded, + for spaces, %XX escapes.
TWILIO_FORM = ("SmsMessageSid=SM0123456789abcdef0123456789abcdef&NumMedia=0&ProfileName=Ana+Lu%C3%ADsa"
               "&SmsSid=SM0123456789abcdef0123456789abcdef&WaId=5511999990000&SmsStatus=received"
               "&Body=Ol%C3%A1%21+Pre%C3%A7o%3F+%F0%9F%91%8D&To=whatsapp%3A%2B14155238886"
               "&NumSegments=1&MessageSid=SM0123456789abcdef0123456789abcdef"
               "&AccountSid=AC0123456789abcdef0123456789abcdef&From=whatsapp%3A%2B5511999990000"
               "&ApiVersion=2010-04-01")


def twilio_cases(tw):
    h = tw.sign(TWILIO_FORM)
    pieces = TWILIO_FORM.split("&")
    json_url = TWILIO_URL + "&bodySHA256=" + hashlib.sha256(BODY.encode()).hexdigest()
    jh = tw.sign(BODY, url=json_url)
    port_url = TWILIO_URL.replace("example.com/", "example.com:443/")
    return [
        case("a WhatsApp message, form-encoded", tw, h, TWILIO_FORM, ok(tw), resign=True),
        case("parameters in another order (order must not matter)", tw, h,
             "&".join(reversed(pieces)), ok(tw)),
        case("a parameter tampered", tw, h, TWILIO_FORM.replace("NumMedia=0", "NumMedia=1"),
             err("signature_mismatch")),
        case("a parameter added", tw, h, TWILIO_FORM + "&Extra=1", err("signature_mismatch")),
        case("a repeated parameter with the same value counts once", tw, h,
             TWILIO_FORM + "&NumMedia=0", ok(tw)),
        case("signed with the default port, requested without", tw,
             tw.sign(TWILIO_FORM, url=port_url), TWILIO_FORM, ok(tw)),
        case("signed without the port, requested with the default port", tw, h, TWILIO_FORM,
             ok(tw), url=port_url),
        # As twilio-node does, a URL with a port also tries itself without one, so only a
        # different port refuses.
        case("signed for one port, requested on another", tw,
             tw.sign(TWILIO_FORM, url=TWILIO_URL.replace("example.com/", "example.com:8443/")),
             TWILIO_FORM, err("signature_mismatch"),
             url=TWILIO_URL.replace("example.com/", "example.com:9443/")),
        case("signed for a port, requested on it", tw,
             tw.sign(TWILIO_FORM, url=TWILIO_URL.replace("example.com/", "example.com:8443/")),
             TWILIO_FORM, ok(tw), url=TWILIO_URL.replace("example.com/", "example.com:8443/")),
        case("another path", tw, h, TWILIO_FORM, err("signature_mismatch"),
             url=TWILIO_URL.replace("/twilio?", "/twilio2?")),
        case("no URL given", tw, h, TWILIO_FORM, err("missing_request_target"), method=None,
             url=None),
        # Twilio signs the URL and the parameters, never the method: twilio-node's
        # validateRequest(token, signature, url, params) takes none.
        case("the URL alone, as twilio-node's validateRequest takes it", tw, h, TWILIO_FORM,
             ok(tw), method=None, resign=True),
        case("any method: Twilio does not sign it", tw, h, TWILIO_FORM, ok(tw), method="GET"),
        case("a JSON body signed through bodySHA256", tw, jh, BODY, ok(tw), url=json_url,
             resign=True),
        case("a JSON body that does not match its bodySHA256", tw, jh, tamper_body(BODY),
             err("signature_mismatch"), url=json_url),
        case("bodySHA256 tampered in the URL", tw, jh, BODY, err("signature_mismatch"),
             url=json_url[:-1] + ("0" if json_url[-1] != "0" else "1")),
    ]


def vonage_cases(vg):
    secret, body = vg.secret, BODY.encode()
    claims = vonage_claims(body, NOW)
    bearer = lambda tok: [["Authorization", "Bearer " + tok]]
    h = bearer(jwt(secret, claims))
    unsigned = lambda header: b64url(json.dumps(header).encode()) + "." + jwt(secret, claims).split(".")[1] + "."
    return [
        case("a retry 25 hours after its token was made", vg, vg.sign(BODY, ts=NOW - 25 * 3600),
             BODY, ok(vg, ts=NOW - 25 * 3600)),
        case("the token of another body (payload_hash differs)", vg,
             bearer(jwt(secret, vonage_claims(b"{}", NOW))), BODY, err("signature_mismatch")),
        case("alg none, unsigned", vg, bearer(unsigned({"alg": "none", "typ": "JWT"})), BODY,
             err("malformed_signature")),
        case("alg none, with an HS256 signature attached", vg,
             bearer(unsigned({"alg": "none"}) + jwt(secret, claims).split(".")[2]), BODY,
             err("malformed_signature")),
        case("alg RS256 (algorithm confusion)", vg,
             bearer(jwt(secret, claims, header={"alg": "RS256", "typ": "JWT"})), BODY,
             err("malformed_signature")),
        case("alg HS512", vg, bearer(jwt(secret, claims, header={"alg": "HS512"})), BODY,
             err("malformed_signature")),
        case("no payload_hash claim", vg,
             bearer(jwt(secret, {"iat": NOW, "jti": "x"})), BODY, err("malformed_signature")),
        case("no iat claim", vg,
             bearer(jwt(secret, {"jti": "x", "payload_hash": claims["payload_hash"]})), BODY,
             err("malformed_signature")),
        # Freshness is iat's window; Vonage sends no exp, and one is not read.
        case("iat 27 hours old", vg, vg.sign(BODY, ts=NOW - 27 * 3600), BODY,
             err("timestamp_too_old")),
        case("not a bearer token", vg, [["Authorization", "Basic dXNlcjpwYXNz"]], BODY,
             err("malformed_signature")),
        case("two parts only", vg, bearer(".".join(jwt(secret, claims).split(".")[:2])), BODY,
             err("malformed_signature")),
        case("upper-case hex payload_hash", vg,
             bearer(jwt(secret, {**claims, "payload_hash": claims["payload_hash"].upper()})),
             BODY, ok(vg)),
    ] + [case("valid, scheme word in lower case", vg,
              [["Authorization", h[0][1].replace("Bearer ", "bearer ")]], BODY, ok(vg))]


def bird_cases(bd):
    h = bd.sign(BODY)
    return [
        case("a retry 4 hours late, with its original timestamp", bd, bd.sign(BODY, ts=NOW - 4 * 3600),
             BODY, ok(bd, ts=NOW - 4 * 3600)),
        case("another URL", bd, h, BODY, err("signature_mismatch"),
             url=BIRD_URL.replace("channel=wa", "channel=sms")),
        case("no URL given", bd, h, BODY, err("missing_request_target"), method=None, url=None),
        case("the URL alone (Bird does not sign the method)", bd, h, BODY, ok(bd), method=None,
             resign=True),
    ]


# Standard Webhooks v1a: `whsk_` + base64 of the 32-byte Ed25519 seed signs, `whpk_` + base64 of
# its public key verifies; the signature is `v1a,` + base64 over `{id}.{timestamp}.{body}`.
V1A_SEEDS = [bytes(range(32)), bytes(range(32, 64))]


def whpk(seed):
    return "whpk_" + base64.b64encode(rfc8032.public_key(seed)).decode()


def whsk(seed):
    return "whsk_" + base64.b64encode(seed).decode()


def v1a(seed, body, ts=NOW, id_="msg_2KWPBgLlAfxdpx2AI54pPJ85f4W"):
    msg = f"{id_}.{ts}.".encode() + body.encode()
    return "v1a," + base64.b64encode(rfc8032.sign(seed, msg)).decode()


def v1a_cases(sw):
    key, other = V1A_SEEDS
    pk = [whpk(key)]
    h = sw.sign(BODY)

    def signed(sig, ts=NOW):
        return set_header(set_header(h, "webhook-signature", lambda _: sig),
                          "webhook-timestamp", lambda _: str(ts))

    hmac_sig = h[2][1]
    good = v1a(key, BODY)
    return [
        case("v1a: signed with a whsk_ key, verified with its whpk_ key", sw, signed(good), BODY,
             ok(sw), secrets=pk, signingSecret=whsk(key), resign=True),
        case("v1a: non-ASCII and emoji body", sw, signed(v1a(key, EMOJI)), EMOJI, ok(sw),
             secrets=pk, signingSecret=whsk(key), resign=True),
        case("v1a: the whsk_ key verifies too", sw, signed(good), BODY, ok(sw),
             secrets=[whsk(key)]),
        case("v1a: tampered body", sw, signed(good), tamper_body(BODY), err("signature_mismatch"),
             secrets=pk),
        case("v1a: id tampered", sw, set_header(signed(good), "webhook-id", lambda v: v + "x"),
             BODY, err("signature_mismatch"), secrets=pk),
        case("v1a: replayed with a fresh timestamp", sw, signed(good, NOW + 1), BODY,
             err("signature_mismatch"), secrets=pk),
        case("v1a: signed with another key", sw, signed(v1a(other, BODY)), BODY,
             err("signature_mismatch"), secrets=pk),
        case("v1a: signature cut short", sw, signed(good[:-8] + "=="), BODY,
             err("malformed_signature"), secrets=pk),
        case("v1a: timestamp -301 s", sw, signed(v1a(key, BODY, NOW - 301), NOW - 301), BODY,
             err("timestamp_too_old"), secrets=pk),
        case("v1 and v1a in one header, verified with the whsec_ secret", sw,
             signed(f"{good} {hmac_sig}"), BODY, ok(sw)),
        case("v1 and v1a in one header, verified with the whpk_ key", sw,
             signed(f"{hmac_sig} {good}"), BODY, ok(sw), secrets=pk),
        case("rotation from whsec_ to whpk_: a v1a signature", sw, signed(good), BODY, ok(sw, 1),
             secrets=[sw.secret, pk[0]]),
        case("rotation from whsec_ to whpk_: a v1 signature", sw, h, BODY, ok(sw, 0),
             secrets=[sw.secret, pk[0]]),
        case("only a v1 signature, and only a whpk_ key", sw, h, BODY,
             err("malformed_signature"), secrets=pk),
        case("v1a: a whpk_ key without its base64 padding", sw, signed(good), BODY, ok(sw),
             secrets=[pk[0].rstrip("=")]),
        case("v1a: a whpk_ key whose last character carries spare bits", sw, signed(good), BODY,
             ok(sw), secrets=[spare_bits(pk[0])]),
        case("v1a: a whsk_ key whose last character carries spare bits", sw, signed(good), BODY,
             ok(sw), secrets=[spare_bits(whsk(key))]),
        case("v1a: signature without its base64 padding", sw, signed(good.rstrip("=")), BODY,
             err("malformed_signature"), secrets=pk),
        case("a whpk_ key that is not 32 bytes", sw, signed(good), BODY, err("invalid_secret"),
             secrets=["whpk_" + base64.b64encode(bytes(31)).decode()]),
    ] + weak_key_cases(sw, signed(good))


B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"


def spare_bits(key):
    """The key with the bits after its last byte set in its last base64 character: the same key
    to Python's base64.b64decode (which ignores them), a different string to a strict decoder."""
    body = key.rstrip("=")
    pad = len(key) - len(body)
    assert pad, "needs a key whose length is not a multiple of 3"
    last = B64.index(body[-1])
    spare = (1 << (2 * pad)) - 1
    assert last & spare == 0
    out = body[:-1] + B64[last | 1] + "=" * pad
    prefix = key.split("_", 1)[0] + "_" if "_" in key[:6] else ""
    assert base64.b64decode(out[len(prefix):]) == base64.b64decode(key[len(prefix):])
    return out


# The eight points of small order (the identity, (0, -1), the two of order 4 and the four of
# order 8), canonically encoded: with any of them as the public key, signatures can be forged.
SMALL_ORDER = [
    ("the identity point", "01" + "00" * 31),
    ("the all-zero encoding (a point of order 4)", "00" * 32),
    ("the point of order 4 with the sign bit", "00" * 31 + "80"),
    ("the point of order 2, (0, -1)", "ec" + "ff" * 30 + "7f"),
    ("a point of order 8", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a"),
    ("a point of order 8, sign bit set", "c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa"),
    ("the other point of order 8", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05"),
    ("the other point of order 8, sign bit set", "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85"),
]


def non_canonical():
    """Encodings with y >= p of points that exist (y = y0 + p for a small y0 on the curve), each
    another point's key in disguise: the identity's (y0 = 1), and the first of larger order."""
    out = [("the identity, non-canonically (y = p + 1)", (rfc8032.P + 1).to_bytes(32, "little").hex())]
    P = rfc8032.P
    for y0 in range(2, 19):
        x = rfc8032._recover_x(y0, 0)
        x2 = (y0 * y0 - 1) * rfc8032._inv(rfc8032.D * y0 * y0 + 1) % P
        if (x * x - x2) % P != 0:  # no point has this y
            continue
        point = (x, y0, 1, x * y0 % P)
        if rfc8032._mul(8, point)[0] % rfc8032.P == 0:  # small order: listed above
            continue
        out.append((f"a point of large order, non-canonically (y = p + {y0})",
                    (rfc8032.P + y0).to_bytes(32, "little").hex()))
        break
    return out


def weak_key_cases(sw, headers):
    return [
        case(f"v1a: a whpk_ key of {what} is refused", sw, headers, BODY, err("invalid_secret"),
             secrets=["whpk_" + base64.b64encode(bytes.fromhex(key)).decode()])
        for what, key in SMALL_ORDER + non_canonical()
    ]


def generic_cases():
    out = []
    acme = {"signatureHeader": "X-Acme-Signature", "algorithm": "sha512", "encoding": "base64url",
            "prefix": "sha512=", "signed": "{id}:{timestamp}:{{{body}}}", "idHeader": "X-Acme-Id",
            "timestampHeader": "X-Acme-Time", "timestampUnit": "milliseconds",
            "secretEncoding": "hex", "tolerance": {"past": 60, "future": 5}}
    key_hex = "00112233445566778899aabbccddeeff"
    ms = NOW * 1000 + 250

    def acme_sig(body, ms=ms, id_="acme-1"):
        m = mac("sha512", bytes.fromhex(key_hex), f"{id_}:{ms}:{{".encode() + body.encode() + b"}")
        return "sha512=" + base64.urlsafe_b64encode(m).decode().rstrip("=")

    def g(name, headers, body, expect, cfg=acme, secrets=None, **extra):
        c = {"name": f"generic: {name}", "scheme": {"generic": cfg},
             "secrets": [key_hex] if secrets is None else secrets, "now": NOW, "headers": headers, "body": body}
        c.update(extra)
        c["expect"] = expect
        return c

    hd = [["X-Acme-Id", "acme-1"], ["X-Acme-Time", str(ms)], ["X-Acme-Signature", acme_sig(BODY)]]
    out.append(g("valid", hd, BODY, {"ok": {"secretIndex": 0, "id": "acme-1", "timestamp": NOW}},
                 resign=False))
    out.append(g("tampered body", hd, BODY + " ", err("signature_mismatch")))
    out.append(g("61 s old", [["X-Acme-Id", "acme-1"], ["X-Acme-Time", str(ms - 61_000)],
                              ["X-Acme-Signature", acme_sig(BODY, ms - 61_000)]], BODY,
                 err("timestamp_too_old")))
    out.append(g("6 s ahead", [["X-Acme-Id", "acme-1"], ["X-Acme-Time", str(ms + 6_000)],
                               ["X-Acme-Signature", acme_sig(BODY, ms + 6_000)]], BODY,
                 err("timestamp_in_future")))
    out.append(g("template without body", hd, BODY, err("invalid_config"),
                 cfg={**acme, "signed": "{id}"}))
    out.append(g("unknown placeholder", hd, BODY, err("invalid_config"),
                 cfg={**acme, "signed": "{body}{nonce}"}))
    out.append(g("secret is not hex", hd, BODY, err("invalid_secret"), secrets=["xyz"]))
    simple = {"signatureHeader": "X-Signature", "algorithm": "sha256", "encoding": "hex"}
    sig = hexsig("sha256", b"simple-secret", EMOJI.encode())
    out.append(g("raw body, defaults", [["X-Signature", sig]], EMOJI,
                 {"ok": {"secretIndex": 0}}, cfg=simple, secrets=["simple-secret"], resign=True))
    out.append(g("raw body, wrong secret", [["X-Signature", sig]], EMOJI,
                 err("signature_mismatch"), cfg=simple, secrets=["simple-secret2"]))
    # Keys HMAC would treat as the empty key (zero bytes pad to zero bytes): refused at
    # construction, in every encoding, so the HMAC under an empty key never verifies.
    empty_sig = hexsig("sha256", b"", EMOJI.encode())
    for enc, secret in [("base64", "=="), ("base64", "AAAA"), ("hex", "0000"), ("utf8", "\u0000")]:
        out.append(g(f"{enc} secret {secret!r} is the empty key", [["X-Signature", empty_sig]],
                     EMOJI, err("invalid_secret"), cfg={**simple, "secretEncoding": enc},
                     secrets=[secret]))
    std_zero = {"name": "standard-webhooks: whsec_ of 16 zero bytes is the empty key",
                "scheme": "standard-webhooks", "secrets": ["whsec_AAAAAAAAAAAAAAAAAAAAAA=="],
                "now": NOW, "headers": [["webhook-id", "msg_1"], ["webhook-timestamp", str(NOW)],
                                        ["webhook-signature", "v1," + b64sig(
                                            "sha256", b"", f"msg_1.{NOW}.{EMOJI}".encode())]],
                "body": EMOJI, "expect": err("invalid_secret")}
    out.append(std_zero)
    # A bare base64 key decodes as Python's base64.b64decode does: spare bits ignored.
    b64key = base64.b64encode(b"base64-secret-key").decode()
    b64sig_ = hexsig("sha256", b"base64-secret-key", EMOJI.encode())
    out.append(g("a base64 secret whose last character carries spare bits", [["X-Signature", b64sig_]],
                 EMOJI, {"ok": {"secretIndex": 0}}, cfg={**simple, "secretEncoding": "base64"},
                 secrets=[spare_bits(b64key)]))
    # A replay window or id on a header the template does not sign protects nothing.
    out.append(g("timestamp header outside the template", [["X-Signature", sig]], EMOJI,
                 err("invalid_config"), cfg={**simple, "timestampHeader": "X-Ts"},
                 secrets=["simple-secret"]))
    out.append(g("id header outside the template", [["X-Signature", sig]], EMOJI,
                 err("invalid_config"), cfg={**simple, "idHeader": "X-Id"},
                 secrets=["simple-secret"]))
    out.append(g("tolerance with one side left out", hd, BODY, err("invalid_config"),
                 cfg={**acme, "tolerance": {"past": 60}}))
    return out


def main():
    rfc8032.self_test()
    cases = []
    for s in SCHEMES:
        cases += scheme_cases(s)
    cases += special_cases()
    cases += generic_cases()
    names = [c["name"] for c in cases]
    assert len(names) == len(set(names)), "duplicate case names"
    doc = {
        "description": "Per-scheme vectors, each signature computed by tests/vectors/generate.py "
                       "with Python's hmac from the provider's documented rule. Regenerate with "
                       "`make vectors`; do not edit by hand.",
        "cases": cases,
    }
    text = json.dumps(doc, indent=1, ensure_ascii=False) + "\n"
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "schemes.json")
    if "--check" in sys.argv:
        with open(out, encoding="utf-8") as f:
            if f.read() != text:
                sys.exit("tests/vectors/schemes.json is stale: run `make vectors`")
        print(f"schemes.json up to date ({len(cases)} cases)")
    else:
        with open(out, "w", encoding="utf-8") as f:
            f.write(text)
        print(f"wrote {len(cases)} cases")


if __name__ == "__main__":
    main()
