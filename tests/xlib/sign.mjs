// Signs fresh random webhooks with the reference npm libraries of other ecosystems and prints
// them as test-vector cases (the JSON format of tests/vectors/). hookseal must accept every one
// of them, and reject their tampered twins: see tests/xlib.rs (Rust) and the JS suite.
//
// Usage: node tests/xlib/sign.mjs [count-per-library]   (or import { signAll })
import { randomBytes, randomInt } from "node:crypto";
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
  function push(library, scheme, secret, headers, body, expect, signatureHeader) {
    cases.push({
      name: `${library} #${cases.length}`,
      scheme,
      secrets: [secret],
      now,
      headers: Object.entries(headers),
      body,
      expect: { ok: { secretIndex: 0, ...expect } },
      signatureHeader,
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
  }

  return cases;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  process.stdout.write(JSON.stringify({ cases: await signAll(Number(process.argv[2] ?? 25)) }));
}
