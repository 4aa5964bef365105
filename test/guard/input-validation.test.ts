import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import http from 'node:http';
import net from 'node:net';
import { GuardError, RouteValidator, parseMediaType, serverLimits } from '../../src/guard/index.js';

const schema = {
  type: 'object',
  properties: { amount: { type: 'integer', minimum: 1 }, currency: { type: 'string', enum: ['EUR', 'USD'] }, note: { type: 'string', maxLength: 64 } },
  required: ['amount', 'currency'],
  additionalProperties: false,
};

let server: http.Server;
let port = 0;
let handlerRuns = 0;
const validator = new RouteValidator({ schema, maxBodyBytes: 1024 });

before(async () => {
  server = http.createServer({ ...serverLimits }, (req, res) => {
    validator.read(req).then(
      (input) => {
        handlerRuns++; // the "app"
        res.end(JSON.stringify(input.json));
      },
      (error: unknown) => {
        const e = error instanceof GuardError ? error : new GuardError('ERR_GUARD_BAD_REQUEST', 'bad request');
        res.writeHead(e.status, { 'content-type': 'application/json', connection: 'close' }).end(JSON.stringify({ code: e.code, message: e.message }));
      },
    );
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as net.AddressInfo).port;
});

after(() => new Promise<void>((r) => server.close(() => r())));

async function post(body: string, contentType: string | undefined): Promise<{ status: number; json: { code?: string; message?: string } }> {
  const res = await fetch(`http://127.0.0.1:${port}/pay`, { method: 'POST', body, headers: contentType === undefined ? {} : { 'content-type': contentType } });
  return { status: res.status, json: (await res.json()) as { code?: string; message?: string } };
}

test('a valid body reaches the handler; charset=utf-8 and case are fine', async () => {
  const before = handlerRuns;
  assert.equal((await post('{"amount":5,"currency":"EUR"}', 'application/json')).status, 200);
  assert.equal((await post('{"amount":5,"currency":"EUR"}', 'Application/JSON; charset="UTF-8"')).status, 200);
  assert.equal(handlerRuns, before + 2);
});

test('schema failure → 400 with the first error path, no echo of the value; the handler never runs', async () => {
  const before = handlerRuns;
  const big = 'Z'.repeat(500);
  const r = await post(JSON.stringify({ amount: 5, currency: 'EUR', note: big }), 'application/json');
  assert.equal(r.status, 400);
  assert.equal(r.json.code, 'ERR_GUARD_INVALID_INPUT');
  assert.match(r.json.message ?? '', /"\/note" \(maxLength\)/);
  assert.ok(!(r.json.message ?? '').includes('ZZZ'));
  const coerced = await post('{"amount":"5","currency":"EUR"}', 'application/json');
  assert.equal(coerced.status, 400, 'no type coercion');
  assert.match(coerced.json.message ?? '', /\/amount/);
  assert.equal((await post('{"amount":5,"currency":"EUR","admin":true}', 'application/json')).status, 400, 'extra properties refused, not removed');
  assert.equal((await post('{"amount":5}', 'application/json')).status, 400);
  assert.equal(handlerRuns, before);
});

test('malformed JSON → 400', async () => {
  const r = await post('{"amount":5,', 'application/json');
  assert.equal(r.status, 400);
  assert.match(r.json.message ?? '', /malformed JSON/);
});

test('wrong or missing content type → 415', async () => {
  const before = handlerRuns;
  assert.equal((await post('{"amount":5,"currency":"EUR"}', 'text/plain')).status, 415);
  assert.equal((await post('{"amount":5,"currency":"EUR"}', 'application/jsonx')).status, 415);
  assert.equal((await post('{"amount":5,"currency":"EUR"}', 'application/json; charset=latin1')).status, 415);
  assert.equal((await post('{"amount":5,"currency":"EUR"}', undefined)).status, 415);
  assert.equal(handlerRuns, before);
});

test('body past the route limit → 413, read only up to the limit', async () => {
  const r = await post(JSON.stringify({ amount: 5, currency: 'EUR', pad: 'x'.repeat(5000) }), 'application/json');
  assert.equal(r.status, 413);
});

test('media type parsing', () => {
  assert.deepEqual(parseMediaType('application/json; charset=utf-8')?.parameters.get('charset'), 'utf-8');
  assert.equal(parseMediaType('application/json;charset="utf-8";q=1')?.parameters.get('q'), '1');
  assert.equal(parseMediaType('application/json; charset'), undefined);
  assert.equal(parseMediaType('application'), undefined);
  assert.equal(parseMediaType('app lication/json'), undefined);
  assert.equal(parseMediaType('a/b; x=1; x=2'), undefined, 'duplicate parameter');
});

test('an invalid schema is a configuration error at compile time (strict mode)', () => {
  assert.throws(() => new RouteValidator({ schema: { type: 'object', propertiez: {} } }));
  assert.throws(() => new RouteValidator({ schema: { type: 'string', format: 'email' } }), 'unknown formats are refused, not ignored');
});
