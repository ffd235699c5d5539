/**
 * HTTP health checks: resolve a stored check for one target (placeholders, `${env:NAME}` header secrets), then
 * run it. Header values are secrets: they stay inside ResolvedHttpCheck and are scrubbed from every string a
 * sample carries. Every host and address is judged by an AddressPolicy before anything is sent.
 */
import { type LookupAddress, promises as dns } from 'node:dns';
import http, { type IncomingMessage, type RequestOptions } from 'node:http';
import https from 'node:https';
import { isIP, type LookupFunction } from 'node:net';
import type { AddressPolicy } from './address-policy';
import { type HealthSecretEnvironment, unavailableVariableMessage } from './header-secrets';
import { fillEnvReferences, fillUrlPlaceholders, hasHeaderControlCharacter, type HttpCheck, type UrlPlaceholder } from './schemas';
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

function resolveHeaderValue(headerName: string, template: string, secrets: HealthSecretEnvironment, used: string[]): string {
  return fillEnvReferences(template, (variable) => {
    const value = secrets.get(variable);
    if (value === undefined) throw new HealthCheckConfigError(unavailableVariableMessage(headerName, variable));
    if (hasHeaderControlCharacter(value)) {
      throw new HealthCheckConfigError(
        `environment variable ${variable} of header "${headerName}" holds a line break or another control character, which a header value may not contain`,
      );
    }
    used.push(value);
    return value;
  });
}

/**
 * Fills `{target}`, `{commit}`, `{patchId}` in the URL (URL-encoded) and `${env:NAME}` in header values from
 * `secrets` (see healthSecretEnvironment: the worker never hands over its whole environment).
 * Throws HealthCheckConfigError naming the variable or the problem, never a value.
 */
export function resolveHttpCheck(check: HttpCheck, context: HealthCheckContext, secrets: HealthSecretEnvironment): ResolvedHttpCheck {
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
  if (parsed.username !== '' || parsed.password !== '') {
    // The label would show them; credentials belong in a header with ${env:NAME}.
    throw new HealthCheckConfigError('health check url may not contain a user name or password: send credentials in a header');
  }
  const headers: Record<string, string> = {};
  const environmentValues: string[] = [];
  for (const [name, template] of Object.entries(check.headers ?? {})) {
    headers[name] = resolveHeaderValue(name, template, secrets, environmentValues);
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

/** Reads at most MAX_BODY_BYTES of the body as text; leaving the loop early destroys the rest of the stream. */
async function readBodyPrefix(response: IncomingMessage): Promise<{ text: string; truncated: boolean }> {
  const chunks: Buffer[] = [];
  let bytes = 0;
  for await (const chunk of response as AsyncIterable<Buffer>) {
    const kept = chunk.subarray(0, MAX_BODY_BYTES - bytes);
    chunks.push(kept);
    bytes += kept.length;
    if (bytes === MAX_BODY_BYTES) break;
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated: bytes === MAX_BODY_BYTES };
}

/** A request refused by the address policy; its message is the sample's detail. */
class RefusedAddressError extends Error {
  override readonly name = 'RefusedAddressError';
}

/** Turns a host name into its addresses (IPv4 and IPv6). */
export type ResolveHost = (hostname: string) => Promise<readonly string[]>;

/** The system resolver (getaddrinfo: /etc/hosts, then DNS), as the default of runHttpCheck. */
const systemResolveHost: ResolveHost = async (hostname) => (await dns.lookup(hostname, { all: true })).map(({ address }) => address);

/**
 * The `lookup` of the request's socket: resolves the name once, refuses it when any address is refused (a name
 * that also points at a metadata address is hostile), and hands the socket only the addresses it validated. No
 * second resolution happens between the check and the connect, which is what DNS rebinding needs.
 */
function validatingLookup(policy: AddressPolicy, resolveHost: ResolveHost): LookupFunction {
  return (hostname, options, callback) => {
    const validated = async (): Promise<{ first: LookupAddress; all: LookupAddress[] }> => {
      const all = (await resolveHost(hostname)).map((address) => ({ address, family: isIP(address) }));
      const [first] = all;
      if (!first) throw new Error(`${hostname} has no address`);
      for (const { address } of all) {
        const refusal = policy.addressRefusal(address);
        if (refusal) throw new RefusedAddressError(`refused: ${hostname} resolves to ${refusal.address}, which ${refusal.reason}`);
      }
      return { first, all };
    };
    validated().then(
      // `all` is asked for when the socket tries several addresses in turn (autoSelectFamily, on by default in Node 20).
      ({ first, all }) => (options.all ? callback(null, all) : callback(null, first.address, first.family)),
      (error: NodeJS.ErrnoException) => callback(error, ''),
    );
  };
}

/** Sends the GET; resolves with the response head, the body still unread. */
function sendGet(url: URL, options: RequestOptions): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    (url.protocol === 'https:' ? https : http).request(url, options, resolve).on('error', reject).end();
  });
}

/** Why a request failed, in one phrase: `connect ECONNREFUSED 127.0.0.1:8080`, `DEPTH_ZERO_SELF_SIGNED_CERT: self-signed certificate`. */
function failureReason(error: unknown): string {
  // Duck-typed rather than instanceof: node's own errors come from another realm inside test sandboxes.
  if (typeof error !== 'object' || error === null || typeof (error as { message?: unknown }).message !== 'string') return String(error);
  const { message, code } = error as { message: string; code?: unknown };
  return typeof code === 'string' && !message.includes(code) ? `${code}: ${message}` : message;
}

export interface HttpCheckOptions {
  /** Cancels the check: runHttpCheck then rejects, so the caller stops. */
  signal?: AbortSignal;
  /** Which hosts and addresses the check may contact (from `config.health`). */
  addressPolicy: AddressPolicy;
  /** How host names become addresses; default: the system resolver. Tests point it at their own DNS server. */
  resolveHost?: ResolveHost;
}

/**
 * Sends one GET request. Every outcome of the target (refused address, network error, timeout, wrong status,
 * missing body text) is a sample with ok: false; only cancellation through `signal` rejects.
 * Redirects are not followed: a 3xx is the answer, and credentials never travel to another location.
 *
 * node:http rather than fetch: its `lookup` option is the one place where a host name becomes the address the
 * socket connects to, so the address validated is the address used, with no extra dependency (fetch would need
 * undici's Agent). The request keeps the host name, so TLS sends it as SNI and verifies the certificate against it.
 */
export async function runHttpCheck(resolved: ResolvedHttpCheck, options: HttpCheckOptions): Promise<HealthSample> {
  const at = new Date().toISOString();
  const started = performance.now();
  const sample = (ok: boolean, detail: string, status?: number): HealthSample => ({
    ok,
    checkType: 'http',
    check: resolved.check,
    detail: oneLine(resolved.redact(detail)),
    latencyMs: Math.round(performance.now() - started),
    ...(status === undefined ? {} : { status }),
    at,
  });

  const url = new URL(resolved.url);
  // IP literals never reach `lookup` (the socket connects to them directly), so they are judged here.
  const refusedHost = options.addressPolicy.hostRefusal(url.hostname);
  // A refused address is not the target failing: the check could not be taken (an error, with its own limit).
  const refusal = (detail: string): HealthSample => ({ ...sample(false, detail), error: true });
  if (refusedHost) return refusal(`refused: ${refusedHost.address} ${refusedHost.reason}`);

  const timeout = AbortSignal.timeout(resolved.timeoutMs);
  const signal = options.signal ? AbortSignal.any([options.signal, timeout]) : timeout;
  try {
    const response = await sendGet(url, {
      headers: resolved.requestHeaders(),
      signal,
      lookup: validatingLookup(options.addressPolicy, options.resolveHost ?? systemResolveHost),
      // A fresh connection per check: a pooled socket would skip the lookup above.
      agent: false,
    });
    try {
      const status = response.statusCode ?? 0;
      if (status !== resolved.expectStatus) return sample(false, `expected status ${resolved.expectStatus}, got ${status}`, status);
      if (resolved.bodyIncludes === undefined) return sample(true, `status ${status}`, status);
      const body = await readBodyPrefix(response);
      if (!body.text.includes(resolved.bodyIncludes)) {
        const scope = body.truncated ? `the first ${MAX_BODY_BYTES} bytes of the body` : 'the body';
        return sample(false, `${scope} does not include "${resolved.bodyIncludes}"`, status);
      }
      return sample(true, `status ${status}, body includes "${resolved.bodyIncludes}"`, status);
    } finally {
      response.destroy();
    }
  } catch (error) {
    options.signal?.throwIfAborted();
    if (timeout.aborted) return sample(false, `timed out after ${resolved.timeoutMs} ms`);
    if (error instanceof RefusedAddressError) return refusal(error.message);
    return sample(false, `request failed: ${failureReason(error)}`);
  }
}
