// Signs fresh random webhooks with the reference npm libraries of other ecosystems and prints
// them as test-vector cases (the JSON format of tests/vectors/). hookseal must accept every one
// of them, and reject their tampered twins: see tests/xlib.rs (Rust) and the JS suite.
//
// Usage: node tests/xlib/sign.mjs [count-per-library]   (or import { signAll })
import { createHash, generateKeyPairSync, randomBytes, randomInt, sign as edSign } from "node:crypto";
import twilio from "twilio";
import { SignJWT } from "jose";
import { Webhook as StandardWebhook } from "standardwebhooks";
import { Webhook as SvixWebhook } from "svix";
import Stripe from "stripe";
import { sign as octokitSign } from "@octokit/webhooks-methods";

const now = Math.floor(Date.now() / 1000);
const words = ["Olá", "Preço?", "👍", "🎉🔥", "ünïcödé", "中文", "العربية", "hello", "\\n", "\"q\""];

function randomBody() {
  const text = Array.from({ length: randomInt(1, 40) }, () => words[randomInt(words.length)]).join(" ");
  return JSON.stringify({
    event: "message.received",
    id: `evt_${randomBytes(8).toString("hex")}`,
    data: { from: `55119${randomInt(10_000_000, 99_999_999)}`, body: text, n: randomInt(1e9) },
  });
}

/** Fresh cases signed by each reference library, `perLibrary` of each. */
export async function signAll(perLibrary = 25) {
  const cases = [];
  function push(library, scheme, secret, headers, body, expect, signatureHeader, extra = {}) {
    cases.push({
      name: `${library} #${cases.length}`,
      scheme,
      secrets: Array.isArray(secret) ? secret : [secret],
      now,
      headers: Object.entries(headers),
      body,
      expect: { ok: { secretIndex: 0, ...expect } },
      signatureHeader,
      ...extra,
    });
  }

  const stripe = new Stripe("sk_test_hookseal_xlib");
  for (let i = 0; i < perLibrary; i++) {
    // standardwebhooks: whsec_ + base64 of a random key, signed at a random time inside the window.
    const stdSecret = `whsec_${randomBytes(randomInt(16, 64)).toString("base64")}`;
    const id = `msg_${randomBytes(12).toString("hex")}`;
    const ts = now - randomInt(0, 290);
    let body = randomBody();
    const std = new StandardWebhook(stdSecret).sign(id, new Date(ts * 1000), body);
    push("standardwebhooks", "standard-webhooks", stdSecret,
      { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": std },
      body, { id, timestamp: ts }, "webhook-signature");

    // svix: same scheme, svix- headers.
    body = randomBody();
    const svix = new SvixWebhook(stdSecret).sign(id, new Date(ts * 1000), body);
    push("svix", "svix", stdSecret,
      { "svix-id": id, "svix-timestamp": String(ts), "svix-signature": svix },
      body, { id, timestamp: ts }, "svix-signature");

    // stripe: the whsec_ string is the key as it is.
    const stripeSecret = `whsec_${randomBytes(24).toString("hex")}`;
    body = randomBody();
    const header = stripe.webhooks.generateTestHeaderString({ payload: body, secret: stripeSecret, timestamp: ts });
    push("stripe", "stripe", stripeSecret, { "Stripe-Signature": header }, body, { timestamp: ts },
      "Stripe-Signature");

    // @octokit/webhooks-methods: GitHub's sha256= signature.
    const ghSecret = randomBytes(20).toString("base64url");
    body = randomBody();
    const gh = await octokitSign(ghSecret, body);
    push("@octokit/webhooks-methods", "github", ghSecret,
      // X-GitHub-Delivery is not signed: verification never reports it as the id.
      { "X-Hub-Signature-256": gh, "X-GitHub-Delivery": id }, body, {}, "X-Hub-Signature-256");

    // twilio (getExpectedTwilioSignature): a form body of WhatsApp parameters, a repeated one
    // among them, posted to a URL with its own query.
    const token = randomBytes(16).toString("hex");
    const url = `https://hooks.example.com/twilio/${randomInt(1e6)}?source=wa&n=${randomInt(1e6)}`;
    const params = {
      MessageSid: `SM${randomBytes(16).toString("hex")}`,
      From: `whatsapp:+55119${randomInt(10_000_000, 99_999_999)}`,
      To: "whatsapp:+14155238886",
      Body: words.slice(0, randomInt(1, words.length)).join(" "),
      ProfileName: words[randomInt(words.length)],
      NumMedia: "0",
      Tag: ["b", "a", "c"].slice(0, randomInt(1, 4)),
    };
    const form = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) for (const x of [v].flat()) form.append(k, x);
    const twilioSig = twilio.getExpectedTwilioSignature(token, url, params);
    if (!twilio.validateRequest(token, twilioSig, url, params)) throw new Error("twilio disagrees with itself");
    push("twilio", "twilio", token, { "X-Twilio-Signature": twilioSig }, form.toString(), {},
      "X-Twilio-Signature", { method: "POST", url });

    // twilio, JSON body: the URL carries bodySHA256, the signature covers the URL alone.
    body = randomBody();
    const jsonUrl = `${url}&bodySHA256=${createHash("sha256").update(body).digest("hex")}`;
    const jsonSig = twilio.getExpectedTwilioSignature(token, jsonUrl, {});
    if (!twilio.validateRequestWithBody(token, jsonSig, jsonUrl, body)) throw new Error("twilio JSON disagrees");
    push("twilio", "twilio", token, { "X-Twilio-Signature": jsonSig }, body, {}, "X-Twilio-Signature",
      { method: "POST", url: jsonUrl });

    // jose: a Vonage signed-webhook JWT, HS256 with payload_hash, iat inside the window.
    const vonageSecret = randomBytes(24).toString("base64url");
    body = randomBody();
    const jwt = await new SignJWT({
      payload_hash: createHash("sha256").update(body).digest("hex"),
      jti: randomBytes(8).toString("hex"),
      api_key: "abcd1234",
    })
      .setProtectedHeader({ alg: "HS256", typ: "JWT" })
      .setIssuedAt(ts)
      .sign(new TextEncoder().encode(vonageSecret));
    push("jose", "vonage", vonageSecret, { Authorization: `Bearer ${jwt}` }, body, { timestamp: ts },
      "Authorization");

    // node:crypto Ed25519: Standard Webhooks v1a, verified with the whpk_ public key; then the
    // same beside a v1 signature from standardwebhooks in one header (the verifier holds only
    // the public key, so the v1a entry is the one that counts, and tampering it is refused).
    const { publicKey, privateKey } = generateKeyPairSync("ed25519");
    const whpk = `whpk_${Buffer.from(publicKey.export({ format: "jwk" }).x, "base64url").toString("base64")}`;
    body = randomBody();
    const v1a = edSign(null, Buffer.from(`${id}.${ts}.${body}`), privateKey).toString("base64");
    push("node:crypto ed25519", "standard-webhooks", whpk,
      { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": `v1a,${v1a}` },
      body, { id, timestamp: ts }, "webhook-signature");
    const v1 = new StandardWebhook(stdSecret).sign(id, new Date(ts * 1000), body);
    push("node:crypto ed25519", "standard-webhooks", whpk,
      { "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": `${v1} v1a,${v1a}` },
      body, { id, timestamp: ts }, "webhook-signature");
  }

  return cases;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(JSON.stringify({ cases: await signAll(Number(process.argv[2] ?? 25)) }));
}
