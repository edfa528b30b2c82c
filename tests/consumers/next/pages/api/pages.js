// A Next.js Pages Router API route: Next's body parser off, so hookseal reads the raw bytes.
import { Webhook, middleware } from 'hookseal';

export const config = { api: { bodyParser: false } };

const moltflow = new Webhook('moltflow', process.env.MOLTFLOW_WEBHOOK_SECRET);
const verify = middleware(moltflow);

export default function handler(req, res) {
  return new Promise((resolve) => {
    res.on('finish', resolve);
    // Refusals are answered by the middleware; the callback runs only for an authentic request.
    verify(req, res, () => {
      res.status(202).json({ router: 'pages', events: req.hookseal.events.map((e) => e.type) });
    });
  });
}
