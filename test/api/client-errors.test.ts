/**
 * Requests Node's HTTP parser refuses before the app sees them still get RFC 9457 problems: a real server on
 * loopback, real sockets.
 */
import { createServer, type Server } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import express from 'express';
import { answerClientErrors } from '../../src/api/problem';

let server: Server;

beforeAll(async () => {
  server = createServer(express());
  answerClientErrors(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
});

afterAll(async () => {
  await new Promise((resolve) => server.close(resolve));
});

/** Sends `raw` and reads the whole answer (the server closes the connection after a problem). */
function exchange(raw: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect((server.address() as AddressInfo).port, '127.0.0.1');
    let answer = '';
    socket.on('data', (chunk) => (answer += chunk.toString('utf8')));
    socket.on('end', () => resolve(answer));
    socket.on('error', reject);
    socket.write(raw);
  });
}

function problemOf(answer: string): { statusLine: string; contentType: string | undefined; body: Record<string, unknown> } {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  const [statusLine = '', ...headers] = head.split('\r\n');
  const contentType = headers.find((line) => line.toLowerCase().startsWith('content-type:'))?.split(': ')[1];
  return { statusLine, contentType, body: JSON.parse(body) as Record<string, unknown> };
}

test('headers over the 16 KiB limit: 431 as problem+json', async () => {
  const answer = problemOf(await exchange(`GET /api/v1/patches HTTP/1.1\r\nHost: x\r\nAccept: ${'a'.repeat(20_000)}\r\n\r\n`));
  expect(answer.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
  expect(answer.contentType).toBe('application/problem+json');
  expect(answer.body).toEqual({ type: 'about:blank', title: 'Request Header Fields Too Large', status: 431, detail: 'The request line and headers are longer than the server accepts (16 KiB).' });
});

test('bytes that are not HTTP: 400 as problem+json', async () => {
  const answer = problemOf(await exchange('\u0000\u0001 not http at all\r\n\r\n'));
  expect(answer.statusLine).toBe('HTTP/1.1 400 Bad Request');
  expect(answer.contentType).toBe('application/problem+json');
  expect(answer.body).toMatchObject({ status: 400, detail: 'The request is not valid HTTP/1.1.' });
});
