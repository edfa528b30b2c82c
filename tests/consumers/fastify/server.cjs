// Fastify with hookseal's plugin in the webhook routes' own scope; the rest of the app keeps its
// JSON parser. CommonJS, as most Fastify apps are.
const Fastify = require('fastify');
const { Webhook } = require('hookseal');
const { hookseal } = require('hookseal/fastify');

const app = Fastify();
const moltflow = new Webhook('moltflow', process.env.MOLTFLOW_WEBHOOK_SECRET);

app.register(async (hooks) => {
  hooks.register(hookseal, { webhook: moltflow });
  hooks.post('/webhooks/moltflow', async (request, reply) => {
    const { events } = request.hookseal; // verified and parsed; refusals were already answered
    return reply.code(202).send({ events: events.map((e) => e.type) });
  });
});

// Elsewhere in the app, JSON is parsed as usual.
app.post('/api/echo', async (request) => ({ parsed: request.body }));

app.listen({ host: '127.0.0.1', port: 0 }).then(() => console.log(JSON.stringify({ port: app.server.address().port })));
