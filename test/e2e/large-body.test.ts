// Bodies nobody reads, from a client that writes its whole request before it reads the
// answer (as many HTTP clients do): the starter's 413 (and 415) and the translator's answer
// to a GET with a body arrive complete and readable, with `Connection: close`, instead of a
// connection reset; a client that keeps sending past the server's bound is cut off.
import assert from 'node:assert/strict';
import net from 'node:net';
import { after, before, describe, test } from 'node:test';
import { freePort, startService, type RunningService } from '@greeter/scripts/devstack';

const MiB = 1024 * 1024;

interface Exchange {
  /** Everything the server sent, as text. */
  answer: string;
  /** Body bytes written before the connection ended or failed. */
  written: number;
  /** The socket error the client saw (a reset, a broken pipe), if any. */
  error?: string;
}

/**
 * Writes `head` and then `bodyBytes` of body (chunked when `head` says so) before reading
 * anything, then reads until the server closes (or 15 s pass). Only a socket error ends it early.
 */
function sendThenRead(port: number, head: string, bodyBytes: number): Promise<Exchange> {
  const chunked = /transfer-encoding: chunked/i.test(head);
  return new Promise((resolve) => {
    const socket = net.connect(port, '127.0.0.1');
    socket.pause(); // nothing is read until the whole body is written
    const received: Buffer[] = [];
    let written = 0;
    let done = false;
    const finish = (error?: string) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      socket.destroy();
      resolve({ answer: Buffer.concat(received).toString('utf8'), written, ...(error && { error }) });
    };
    // A server that keeps the connection open after its answer is a failure too, not a hang.
    const timer = setTimeout(() => finish('the server did not close the connection within 15 s'), 15_000);
    socket.on('error', (err: NodeJS.ErrnoException) => finish(err.code ?? err.message));
    socket.on('close', () => finish());
    socket.on('data', (b: Buffer) => received.push(b));
    const block = Buffer.alloc(64 * 1024, 'x');
    const pump = () => {
      while (written < bodyBytes) {
        const n = Math.min(block.length, bodyBytes - written);
        const data = chunked
          ? Buffer.concat([Buffer.from(`${n.toString(16)}\r\n`), block.subarray(0, n), Buffer.from('\r\n')])
          : block.subarray(0, n);
        written += n;
        if (!socket.write(data)) return void socket.once('drain', pump);
      }
      socket.write(chunked ? '0\r\n\r\n' : '', () => socket.resume());
    };
    socket.once('connect', () => {
      socket.write(head);
      pump();
    });
  });
}

function parse(answer: string): { status: number; headers: Record<string, string>; body: string } {
  const end = answer.indexOf('\r\n\r\n');
  assert.ok(end > 0, `expected a complete HTTP answer, got ${JSON.stringify(answer.slice(0, 300))}`);
  const [statusLine, ...lines] = answer.slice(0, end).split('\r\n');
  const headers = Object.fromEntries(lines.map((l) => [l.slice(0, l.indexOf(':')).toLowerCase(), l.slice(l.indexOf(':') + 1).trim()]));
  return { status: Number(statusLine?.split(' ')[1]), headers, body: answer.slice(end + 4) };
}

const head = (method: string, path: string, headers: Record<string, string>) =>
  `${method} ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;

let starter: RunningService;
let translator: RunningService;

before(async () => {
  // Bodies are refused before any Temporal call, so no Temporal is needed (the starter is up, not ready).
  [starter, translator] = await Promise.all([
    startService('starter', { TEMPORAL_ADDRESS: `127.0.0.1:${await freePort()}` }),
    startService('translator'),
  ]);
});
after(async () => {
  await starter?.proc.stop();
  await translator?.proc.stop();
});

describe('the starter refuses a body it will not read with a readable answer', () => {
  const JSON_TYPE = 'application/json';
  for (const size of [20_000, 1 * MiB, 2 * MiB, 8 * MiB]) {
    for (const connection of ['keep-alive', 'close']) {
      for (const framing of ['content-length', 'chunked'] as const) {
        test(`${size} bytes, ${framing}, Connection: ${connection}: 413 JSON, then the connection closes`, async () => {
          const headers: Record<string, string> = { 'Content-Type': JSON_TYPE, Connection: connection };
          if (framing === 'chunked') headers['Transfer-Encoding'] = 'chunked';
          else headers['Content-Length'] = String(size);
          const x = await sendThenRead(starter.port, head('POST', '/greetings', headers), size);
          assert.equal(
            x.error,
            undefined,
            `the client saw ${x.error} after writing ${x.written} bytes; answer: ${JSON.stringify(x.answer)}`,
          );
          assert.equal(x.written, size);
          const r = parse(x.answer);
          assert.equal(r.status, 413, x.answer);
          assert.match(r.headers['content-type'] ?? '', /^application\/json/);
          assert.equal(r.headers.connection, 'close');
          assert.deepEqual(JSON.parse(r.body), { error: 'body is larger than 16384 bytes' });
        });
      }
    }
  }

  test('a content-length far over the limit, with only part of the body sent: 413 at once', async () => {
    const x = await sendThenRead(
      starter.port,
      head('POST', '/greetings', { 'Content-Type': JSON_TYPE, 'Content-Length': String(1024 * MiB) }),
      1 * MiB,
    );
    // The client has stopped writing and reads: the answer is there although the body never ended.
    assert.equal(x.error, undefined, `${x.error}; answer: ${JSON.stringify(x.answer)}`);
    assert.equal(parse(x.answer).status, 413, x.answer);
  });

  test('a large body of the wrong type: 415 JSON', async () => {
    const x = await sendThenRead(
      starter.port,
      head('POST', '/greetings', { 'Content-Type': 'text/plain', 'Content-Length': String(2 * MiB), Connection: 'close' }),
      2 * MiB,
    );
    assert.equal(x.error, undefined, `${x.error}; answer: ${JSON.stringify(x.answer)}`);
    const r = parse(x.answer);
    assert.equal(r.status, 415, x.answer);
    assert.match(String((JSON.parse(r.body) as { error: string }).error), /content-type must be application\/json/);
  });

  test('a client that keeps sending past the bound is cut off, and the starter carries on', async () => {
    // 256 MiB declared and written without reading: the server stops discarding at its bound.
    const x = await sendThenRead(
      starter.port,
      head('POST', '/greetings', { 'Content-Type': JSON_TYPE, 'Content-Length': String(256 * MiB) }),
      256 * MiB,
    );
    assert.ok(x.error, `expected the connection to be cut off, but all ${x.written} bytes were taken`);
    assert.ok(x.written < 256 * MiB, `written ${x.written}`);
    const health = await fetch(`${starter.base}/healthz`);
    assert.equal(health.status, 200);
  });

  test('an ordinary small request on a fresh connection still works afterwards', async () => {
    const res = await fetch(`${starter.base}/greetings`, { method: 'POST', headers: { 'content-type': JSON_TYPE }, body: '{"name": ""}' });
    assert.equal(res.status, 400);
    assert.equal(res.headers.get('connection'), 'keep-alive', 'a body that was read keeps the connection');
    assert.deepEqual(await res.json(), { error: 'name must not be empty' });
  });
});

describe('the translator ignores a body on a GET', () => {
  for (const connection of ['keep-alive', 'close']) {
    test(`2 MiB on GET /get-spanish-greeting, Connection: ${connection}: the greeting, then the connection closes`, async () => {
      const x = await sendThenRead(
        translator.port,
        head('GET', '/get-spanish-greeting?name=Maria', { 'Content-Length': String(2 * MiB), Connection: connection }),
        2 * MiB,
      );
      assert.equal(x.error, undefined, `${x.error}; answer: ${JSON.stringify(x.answer)}`);
      const r = parse(x.answer);
      assert.equal(r.status, 200, x.answer);
      assert.equal(r.headers.connection, 'close');
      assert.equal(r.body, '¡Hola, Maria!');
    });
  }
});
