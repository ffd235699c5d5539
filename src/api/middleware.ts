import { randomUUID } from 'node:crypto';
import type { RequestHandler } from 'express';
import { HttpProblem } from './problem';

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

/** Honours a well-formed incoming X-Request-Id, else makes one; echoed in the response and in problems. */
export const requestId: RequestHandler = (req, res, next) => {
  const incoming = req.headers['x-request-id'];
  const id = typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
  res.setHeader('X-Request-Id', id);
  next();
};

const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

/** Mutating requests must send JSON (or nothing); anything else is a 415 rather than a silently empty body. */
export const requireJsonBody: RequestHandler = (req, _res, next) => {
  const hasBody = Number(req.headers['content-length'] ?? 0) > 0 || req.headers['transfer-encoding'] !== undefined;
  if (MUTATING.has(req.method) && hasBody && !req.is('application/json')) {
    next(new HttpProblem(415, 'Send the request body as application/json.'));
    return;
  }
  next();
};

/**
 * Headers every answer carries: JSON is never sniffed as HTML, nothing is framed or runs scripts if a browser opens
 * an API URL, and answers (patch logs, audit events) are not kept in shared caches.
 */
export const securityHeaders: RequestHandler = (_req, res, next) => {
  res.setHeader('X-Content-Type-Options', 'nosniff');
  res.setHeader('Content-Security-Policy', "default-src 'none'; frame-ancestors 'none'");
  res.setHeader('Referrer-Policy', 'no-referrer');
  res.setHeader('Cache-Control', 'no-store');
  next();
};
