// The ceilings for any endpoint of this service: Express 5 with JSON parsing and joi validation,
// and nothing behind them. Runs as its own process so the load generator does not share its event loop.
import type { AddressInfo } from 'node:net';
import express from 'express';
import Joi from 'joi';

const createOrder = Joi.object({
  customer_id: Joi.number().integer().min(1).required(),
  total_amount: Joi.number().min(0).precision(2).required(),
});

const FIXED_ORDER = {
  id: 1,
  customer_id: 1,
  total_amount: 99.5,
  status: 'pending',
  created_at: '2026-01-01T00:00:00.000Z',
  updated_at: '2026-01-01T00:00:00.000Z',
};

const app = express();
let nextId = 1;

app.post('/orders/', express.json({ limit: '100kb' }), (request, response) => {
  const { error } = createOrder.validate(request.body, { abortEarly: false, convert: false });
  if (error !== undefined) {
    response.status(400).json({ status: 'error', error: { code: 'validation_failed', message: error.message } });
    return;
  }
  const id = nextId++;
  response.status(201).location(`/orders/${id}`).json({ status: 'order created', id });
});

app.get('/orders/:id', (_request, response) => {
  response.json(FIXED_ORDER);
});

const server = app.listen(0, '127.0.0.1', () => {
  const { port } = server.address() as AddressInfo;
  process.stdout.write(`${JSON.stringify({ msg: 'baseline server started', port })}\n`);
});

process.once('SIGTERM', () => {
  server.closeAllConnections();
  server.close(() => process.exit(0));
});
