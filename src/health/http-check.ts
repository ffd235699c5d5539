/**
 * HTTP health checks: resolve a stored check for one target (placeholders, `${env:NAME}` header secrets), then
 * run it with the global fetch. Header values are secrets: they stay inside ResolvedHttpCheck and are scrubbed
 * from every string a sample carries.
 */
import { fillUrlPlaceholders, type HttpCheck, type UrlPlaceholder } from './schemas';
import type { HealthSample } from './types';

/** Invalid configuration (missing variable, bad URL): retrying will not help. Messages never contain secrets. */
export class HealthCheckConfigError extends Error {
  override readonly name = 'HealthCheckConfigError';
}

export type HealthCheckContext = Readonly<Record<UrlPlaceholder, string>>;

/** Bytes of the response body searched for `bodyIncludes`; the rest is never read. */
export const MAX_BODY_BYTES = 64 * 1024;
const MAX_DETAIL_CHARS = 200;
const REDACTED = '[redacted]';
const MIN_REDACTED_CHARS = 4;
const ENV_REFERENCE = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;

/**
 * A check ready to run against one target. Header values live in a private field, so JSON serialization
 * (loggers, Temporal payloads) and util.inspect show only the header names.
 */
export class ResolvedHttpCheck {
  readonly #headers: Readonly<Record<string, string>>;
  readonly #secrets: readonly string[];

  constructor(
    /** Secret-free label shared by all targets: the configured URL without its query string. */
    readonly check: string,
    readonly url: string,
    headers: Readonly<Record<string, string>>,
    readonly expectStatus: number,
    readonly bodyIncludes: string | undefined,
    readonly timeoutMs: number,
    /** Values substituted from the environment: redacted on their own too, in case a message quotes a part. */
    environmentValues: readonly string[],
  ) {
    this.#headers = headers;
    // Longest first, so a header value is replaced whole before the variable inside it. Values shorter than
    // MIN_REDACTED_CHARS are no secrets and would garble details (a header `X-Retry: 1` would hit "got 401").
    this.#secrets = [...new Set([...Object.values(headers), ...environmentValues])]
      .filter((value) => value.length >= MIN_REDACTED_CHARS)
      .sort((a, b) => b.length - a.length);
  }

  get headerNames(): string[] {
    return Object.keys(this.#headers);
  }

  /** The real header values, for the request only. */
  requestHeaders(): Record<string, string> {
    return { ...this.#headers };
  }

  /** Replaces every header value and environment value that occurs in `text` (error messages may quote them). */
  redact(text: string): string {
    return this.#secrets.reduce((out, secret) => out.split(secret).join(REDACTED), text);
  }

  toJSON(): Record<string, unknown> {
    return {
      check: this.check,
      url: this.url,
      headerNames: this.headerNames,
      expectStatus: this.expectStatus,
      bodyIncludes: this.bodyIncludes,
      timeoutMs: this.timeoutMs,
    };
  }
}

function withoutQuery(url: string): string {
  const cut = url.search(/[?#]/);
  return cut < 0 ? url : url.slice(0, cut);
}

/** The stable, secret-free label of an HTTP check's samples (query strings may carry tokens). */
export function httpCheckLabel(check: Pick<HttpCheck, 'url'>): string {
  return `GET ${withoutQuery(check.url)}`;
}

function resolveHeaderValue(
  headerName: string,
  template: string,
  env: Readonly<Record<string, string | undefined>>,
  used: string[],
): string {
  return template.replace(ENV_REFERENCE, (_whole, variable: string) => {
    const value = env[variable];
    if (value === undefined || value === '') {
      throw new HealthCheckConfigError(
        `health check header "${headerName}" references environment variable ${variable}, which is not set on the worker`,
      );
    }
    used.push(value);
    return value;
  });
}

/**
 * Fills `{target}`, `{commit}`, `{patchId}` in the URL (URL-encoded) and `${env:NAME}` in header values.
 * Throws HealthCheckConfigError naming the variable or the problem, never a value.
 */
export function resolveHttpCheck(
  check: HttpCheck,
  context: HealthCheckContext,
  env: Readonly<Record<string, string | undefined>>,
): ResolvedHttpCheck {
  const url = fillUrlPlaceholders(check.url, (name) => encodeURIComponent(context[name]));
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new HealthCheckConfigError(`health check url is not a valid URL after filling placeholders: ${withoutQuery(check.url)}`);
  }
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new HealthCheckConfigError(`health check url must use http or https: ${withoutQuery(check.url)}`);
  }
  const headers: Record<string, string> = {};
  const environmentValues: string[] = [];
  for (const [name, template] of Object.entries(check.headers ?? {})) {
    headers[name] = resolveHeaderValue(name, template, env, environmentValues);
  }
  return new ResolvedHttpCheck(
    httpCheckLabel(check),
    url,
    headers,
    check.expectStatus,
    check.bodyIncludes,
    check.timeoutMs,
    environmentValues,
  );
}

function oneLine(text: string): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > MAX_DETAIL_CHARS ? `${flat.slice(0, MAX_DETAIL_CHARS - 3)}...` : flat;
}

/** Reads at most MAX_BODY_BYTES of the body as text, then drops the rest of the stream. */
async function readBodyPrefix(response: Response): Promise<{ text: string; truncated: boolean }> {
  // The DOM typings of fetch leave the chunk type open; undici always yields bytes.
  const reader = response.body?.getReader() as ReadableStreamDefaultReader<Uint8Array> | undefined;
  if (!reader) return { text: '', truncated: false };
  const decoder = new TextDecoder();
  let text = '';
  let bytes = 0;
  let truncated = false;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    const room = MAX_BODY_BYTES - bytes;
    text += decoder.decode(value.subarray(0, room), { stream: true });
    bytes += Math.min(value.length, room);
    if (value.length >= room) {
      truncated = value.length > room;
      break;
    }
  }
  text += decoder.decode();
  await reader.cancel();
  return { text, truncated };
}

/** The innermost useful reason of a fetch failure (undici wraps socket errors in `TypeError: fetch failed`). */
function failureReason(error: unknown): string {
  // Duck-typed rather than instanceof: fetch's errors may come from another realm (e.g. test sandboxes).
  const described = (value: unknown): { message: string; code?: unknown; cause?: unknown } | undefined =>
    typeof value === 'object' && value !== null && typeof (value as { message?: unknown }).message === 'string'
      ? (value as { message: string; code?: unknown; cause?: unknown })
      : undefined;
  const outer = described(error);
  if (!outer) return String(error);
  const cause = described(outer.cause);
  if (!cause) return outer.message;
  return typeof cause.code === 'string' ? `${cause.code}: ${cause.message}` : cause.message;
}

/**
 * Sends one GET request. Every outcome of the target (network error, timeout, wrong status, missing body
 * text) is a sample with ok: false; only cancellation through `signal` rejects, so the caller stops.
 * Redirects are not followed: a 3xx is the answer, and credentials never travel to another location.
 */
export async function runHttpCheck(resolved: ResolvedHttpCheck, options: { signal?: AbortSignal } = {}): Promise<HealthSample> {
  const at = new Date().toISOString();
  const started = performance.now();
  const timeout = AbortSignal.timeout(resolved.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  const sample = (ok: boolean, detail: string, status?: number): HealthSample => ({
    ok,
    checkType: 'http',
    check: resolved.check,
    detail: oneLine(resolved.redact(detail)),
    latencyMs: Math.round(performance.now() - started),
    ...(status === undefined ? {} : { status }),
    at,
  });

  try {
    const response = await fetch(resolved.url, { headers: resolved.requestHeaders(), redirect: 'manual', signal });
    if (response.status !== resolved.expectStatus) {
      await response.body?.cancel();
      return sample(false, `expected status ${resolved.expectStatus}, got ${response.status}`, response.status);
    }
    if (resolved.bodyIncludes === undefined) {
      await response.body?.cancel();
      return sample(true, `status ${response.status}`, response.status);
    }
    const body = await readBodyPrefix(response);
    if (!body.text.includes(resolved.bodyIncludes)) {
      const scope = body.truncated ? `the first ${MAX_BODY_BYTES} bytes of the body` : 'the body';
      return sample(false, `${scope} does not include "${resolved.bodyIncludes}"`, response.status);
    }
    return sample(true, `status ${response.status}, body includes "${resolved.bodyIncludes}"`, response.status);
  } catch (error) {
    options.signal?.throwIfAborted();
    if (timeout.aborted) return sample(false, `timed out after ${resolved.timeoutMs} ms`);
    return sample(false, `request failed: ${failureReason(error)}`);
  }
}
