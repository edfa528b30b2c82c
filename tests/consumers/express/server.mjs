// An Express app with hookseal's middleware, on a real port.
import express from 'express';
import { Webhook, middleware } from 'hookseal';

const app = express();
const moltflow = new Webhook('moltflow', process.env.MOLTFLOW_WEBHOOK_SECRET);

app.post('/webhooks/moltflow', middleware(moltflow), (req, res) => {
  res.status(202).json({ events: req.hookseal.events.map((e) => e.type) });
});
// A JSON parser elsewhere in the app does not get in the way of the webhook route.
app.use(express.json());

const server = app.listen(0, '127.0.0.1', () => console.log(JSON.stringify({ port: server.address().port })));
