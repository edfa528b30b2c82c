// Hono on Node (@hono/node-server) with hookseal's middleware, on a real port.
import { serve } from '@hono/node-server';
import { Hono } from 'hono';
import { Webhook } from 'hookseal';
import { hookseal } from 'hookseal/hono';

const moltflow = new Webhook('moltflow', process.env.MOLTFLOW_WEBHOOK_SECRET);
const app = new Hono();

app.post('/webhooks/moltflow', hookseal(moltflow), (c) => {
  const { events } = c.get('hookseal');
  return c.json({ events: events.map((e) => e.type) }, 202);
});

serve({ fetch: app.fetch, hostname: '127.0.0.1', port: 0 }, (info) => console.log(JSON.stringify({ port: info.port })));
