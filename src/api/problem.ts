/**
 * RFC 9457 problem details. Routes throw HttpProblem; the error handler renders every error as
 * application/problem+json, never with a stack trace.
 */
import type { Server } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ErrorRequestHandler, RequestHandler } from 'express';
import type { Logger } from 'pino';

export const PROBLEM_CONTENT_TYPE = 'application/problem+json';

const titles: Record<number, string> = {
  400: 'Bad Request',
  401: 'Unauthorized',
  403: 'Forbidden',
  404: 'Not Found',
  405: 'Method Not Allowed',
  406: 'Not Acceptable',
  409: 'Conflict',
  413: 'Content Too Large',
  415: 'Unsupported Media Type',
  431: 'Request Header Fields Too Large',
  422: 'Unprocessable Content',
  500: 'Internal Server Error',
  503: 'Service Unavailable',
};

export class HttpProblem extends Error {
  constructor(
    readonly status: number,
    readonly detail: string,
    readonly extensions: Record<string, unknown> = {},
    /** A URI naming the problem type; `about:blank` means "see the status code". */
    readonly type = 'about:blank',
  ) {
    super(detail);
    this.name = 'HttpProblem';
  }
}

/** body-parser errors carry a `type` and a client status; map them to problems a client can act on. */
function clientErrorOf(error: unknown): HttpProblem | undefined {
  if (error instanceof HttpProblem) return error;
  if (typeof error !== 'object' || error === null) return undefined;
  const { type, status } = error as { type?: unknown; status?: unknown };
  switch (type) {
    case 'entity.parse.failed':
      return new HttpProblem(400, 'The request body is not valid JSON.');
    case 'entity.too.large':
      return new HttpProblem(413, 'The request body is larger than the 1 MiB limit.');
    case 'encoding.unsupported':
    case 'charset.unsupported':
      return new HttpProblem(415, 'The request body encoding is not supported; send UTF-8 JSON.');
    case 'request.aborted':
      return new HttpProblem(400, 'The request was aborted by the client.');
    default:
      return typeof status === 'number' && status >= 400 && status < 500 ? new HttpProblem(status, 'The request could not be processed.') : undefined;
  }
}

export function sendProblem(res: Parameters<RequestHandler>[1], problem: HttpProblem, instance: string): void {
  const requestId = res.getHeader('x-request-id');
  res
    .status(problem.status)
    .type(PROBLEM_CONTENT_TYPE)
    .send(
      JSON.stringify({
        type: problem.type,
        title: titles[problem.status] ?? 'Error',
        status: problem.status,
        detail: problem.detail,
        instance,
        ...(requestId ? { requestId } : {}),
        ...problem.extensions,
      }),
    );
}

export const notFoundHandler: RequestHandler = (req, res) => {
  sendProblem(res, new HttpProblem(404, `No route for ${req.method} ${req.path}.`), req.originalUrl);
};

/** How long a client should wait before retrying while PostgreSQL is unreachable. */
const DATABASE_RETRY_AFTER_SECONDS = 5;
/** Node's socket errors and PostgreSQL's "cannot connect now" / "connection failure" classes (SQLSTATE 57P0x, 08xxx). */
const DATABASE_UNAVAILABLE_CODES = /^(ECONNREFUSED|ECONNRESET|ETIMEDOUT|EHOSTUNREACH|ENOTFOUND|EPIPE|57P0[1-3]|08\d{3}|53300)$/;

/** True when the error means PostgreSQL cannot be reached or refuses connections now: a retry later may work. */
export function isDatabaseUnavailable(error: unknown): boolean {
  if (typeof error !== 'object' || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === 'string' && DATABASE_UNAVAILABLE_CODES.test(code)) return true;
  return typeof message === 'string' && /timeout exceeded when trying to connect|Connection terminated/.test(message);
}

/** The error and the causes it wraps (an audit failure wraps the database's error). */
function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  for (let current = error; current !== undefined && current !== null && chain.length < 5; current = (current as { cause?: unknown }).cause) {
    chain.push(current);
  }
  return chain;
}

export function errorHandler(logger: Logger): ErrorRequestHandler {
  return (error: unknown, req, res, next) => {
    if (res.headersSent) {
      next(error);
      return;
    }
    const databaseDown = causeChain(error).some(isDatabaseUnavailable);
    if (databaseDown) res.setHeader('Retry-After', String(DATABASE_RETRY_AFTER_SECONDS));
    const problem = clientErrorOf(error);
    if (problem) {
      if (problem.status >= 500) logger.warn({ err: error, requestId: res.getHeader('x-request-id') }, problem.detail);
      sendProblem(res, problem, req.originalUrl);
      return;
    }
    if (databaseDown) {
      logger.warn({ err: error, requestId: res.getHeader('x-request-id') }, 'PostgreSQL is unreachable');
      sendProblem(res, new HttpProblem(503, 'The database is not reachable right now; retry in a few seconds.'), req.originalUrl);
      return;
    }
    logger.error({ err: error, requestId: res.getHeader('x-request-id') }, 'unhandled error in request');
    sendProblem(res, new HttpProblem(500, 'An unexpected error occurred; it has been logged.'), req.originalUrl);
  };
}

/**
 * Requests Node's HTTP parser refuses before the app sees them (a request line and headers over its 16 KiB limit,
 * bytes that are not HTTP) get a problem too, instead of Node's bare status line.
 */
export function answerClientErrors(server: Server): void {
  server.on('clientError', (error: NodeJS.ErrnoException, socket: Duplex) => {
    if (!socket.writable) {
      socket.destroy();
      return;
    }
    const status = error.code === 'HPE_HEADER_OVERFLOW' ? 431 : 400;
    const detail = status === 431 ? 'The request line and headers are longer than the server accepts (16 KiB).' : 'The request is not valid HTTP/1.1.';
    const body = JSON.stringify({ type: 'about:blank', title: titles[status], status, detail });
    socket.end(`HTTP/1.1 ${status} ${titles[status]}\r\nContent-Type: ${PROBLEM_CONTENT_TYPE}\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
  });
}
