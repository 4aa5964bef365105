#!/usr/bin/env node
/**
 * A tiny demo service for `meshward up`: plain HTTP on loopback, no TLS, no
 * SPIFFE. Its proxy in front of it does mTLS, authorization and audit; the
 * caller's verified identity arrives in the `x-meshward-peer-id` header.
 *
 *   NAME         service name (auth, order, payment, compromised)
 *   PORT         port on 127.0.0.1
 *   PAYMENT_URL  optional: this service's proxy outbound listener to payment
 *                (plain HTTP; the proxy does the mTLS)
 *
 * Routes:
 *   GET  /health          200 {"service": NAME}
 *   POST /payment/*       (payment) 200 {"service":"payment","path",...,"peer": <x-meshward-peer-id>}
 *   POST /checkout        (callers) calls POST PAYMENT_URL/payment/charge and relays the answer
 *   anything else         200 {"service", "method", "path", "peer"}
 */
import { createServer, request } from 'node:http';

const name = process.env.NAME ?? 'app';
const port = Number(process.env.PORT ?? 8080);
const paymentUrl = process.env.PAYMENT_URL;

function send(res, status, body) {
  const text = JSON.stringify(body) + '\n';
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function readBody(req) {
  return new Promise((resolve, reject) => {
    const chunks = [];
    let size = 0;
    req.on('data', (c) => {
      size += c.length;
      if (size > 64 * 1024) req.destroy(new Error('body too large'));
      else chunks.push(c);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function callPayment(body) {
  return new Promise((resolve, reject) => {
    const url = new URL('/payment/charge', paymentUrl);
    const req = request(url, { method: 'POST', headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) }, timeout: 10_000 }, (res) => {
      const chunks = [];
      res.on('data', (c) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 502, text: Buffer.concat(chunks).toString('utf8') }));
      res.on('error', reject);
    });
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', reject);
    req.end(body);
  });
}

const server = createServer(async (req, res) => {
  const peer = req.headers['x-meshward-peer-id'] ?? null;
  const path = (req.url ?? '/').split('?')[0];
  try {
    if (req.method === 'GET' && path === '/health') return send(res, 200, { service: name });
    const body = await readBody(req);
    if (name === 'payment' && req.method === 'POST' && path.startsWith('/payment/')) {
      process.stdout.write(`payment: ${req.method} ${path} from ${peer}\n`);
      return send(res, 200, { service: 'payment', path, charged: true, peer, body: body.slice(0, 200) });
    }
    if (paymentUrl !== undefined && req.method === 'POST' && path === '/checkout') {
      const answer = await callPayment(body || '{"amount":1}');
      let payment;
      try {
        payment = JSON.parse(answer.text);
      } catch {
        payment = answer.text.trim();
      }
      return send(res, answer.status === 200 ? 200 : 502, { service: name, paymentStatus: answer.status, payment });
    }
    return send(res, 200, { service: name, method: req.method, path, peer });
  } catch (err) {
    return send(res, 500, { service: name, error: String(err?.message ?? err) });
  }
});

server.listen(port, '127.0.0.1', () => process.stdout.write(`${name} app listening on 127.0.0.1:${server.address().port}\n`));
const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
// Exit with the parent (stdin is a pipe from `meshward up`).
process.stdin.on('end', stop);
process.stdin.on('error', stop);
process.stdin.resume();
