// Hono on Cloudflare Workers with hookseal's middleware (wrangler bundles both).
import { Hono } from 'hono';
import { Webhook } from 'hookseal';
import { hookseal } from 'hookseal/hono';

const app = new Hono();
let moltflow;

app.post('/webhooks/moltflow', (c, next) => {
  moltflow ??= new Webhook('moltflow', c.env.MOLTFLOW_WEBHOOK_SECRET);
  return hookseal(moltflow)(c, next);
}, (c) => {
  const { events } = c.get('hookseal'); // verified and parsed; refusals were already answered
  return c.json({ events: events.map((e) => e.type) }, 202);
});

export default app;
