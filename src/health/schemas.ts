/**
 * Health check definitions as the API accepts and stores them. The TS types are inferred from these schemas;
 * `z.infer` gives the parsed shape with defaults applied, which is what the runners take.
 */
import { z } from 'zod';

/** Placeholders an HTTP check URL may contain; each is replaced by the URL-encoded value for the target. */
export const URL_PLACEHOLDERS = ['target', 'commit', 'patchId'] as const;
export type UrlPlaceholder = (typeof URL_PLACEHOLDERS)[number];

export const MAX_CHECK_TIMEOUT_MS = 60_000;
export const DEFAULT_CHECK_TIMEOUT_MS = 5_000;

const PLACEHOLDER_PATTERN = /\{([A-Za-z]+)\}/g;
/** `${env:NAME}` in a header value: replaced on the worker by that variable, if it is one health checks may use. */
const ENV_REFERENCE_PATTERN = /\$\{env:([A-Za-z_][A-Za-z0-9_]*)\}/g;
// RFC 9110 token characters; anything else makes the request fail at run time, so reject it at the boundary.
const HEADER_NAME_PATTERN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
// Unicode control characters (C0, DEL, C1) except tab: CR and LF would start a new header line (header injection).
const HEADER_VALUE_CONTROL_CHARACTER = /[^\P{Cc}\t]/u;

/** The url with every known placeholder replaced by `value` (unknown ones are left for validation to catch). */
export function fillUrlPlaceholders(url: string, value: (name: UrlPlaceholder) => string): string {
  return url.replace(PLACEHOLDER_PATTERN, (whole, name: string) =>
    (URL_PLACEHOLDERS as readonly string[]).includes(name) ? value(name as UrlPlaceholder) : whole,
  );
}

/** Names inside `{...}` in the url that are not known placeholders (typos like `{sha}`). */
export function unknownUrlPlaceholders(url: string): string[] {
  return [...url.matchAll(PLACEHOLDER_PATTERN)]
    .map((match) => match[1] ?? '')
    .filter((name) => !(URL_PLACEHOLDERS as readonly string[]).includes(name));
}

/** The header value template with every `${env:NAME}` replaced by `value(NAME)`. */
export function fillEnvReferences(template: string, value: (name: string) => string): string {
  return template.replace(ENV_REFERENCE_PATTERN, (_whole, name: string) => value(name));
}

/** The variable names a header value template references through `${env:NAME}`. */
export function envReferenceNames(template: string): string[] {
  return [...template.matchAll(ENV_REFERENCE_PATTERN)].map((match) => match[1] ?? '');
}

/** Whether `value` holds a character that may not appear in an HTTP header value (a control character other than tab). */
export function hasHeaderControlCharacter(value: string): boolean {
  return HEADER_VALUE_CONTROL_CHARACTER.test(value);
}

function isHttpUrl(text: string): boolean {
  try {
    const protocol = new URL(text).protocol;
    return protocol === 'http:' || protocol === 'https:';
  } catch {
    return false;
  }
}

const timeoutMsSchema = z.number().int().positive().max(MAX_CHECK_TIMEOUT_MS).default(DEFAULT_CHECK_TIMEOUT_MS);

export const httpCheckSchema = z.object({
  type: z.literal('http'),
  url: z
    .string()
    .min(1)
    .refine((url) => unknownUrlPlaceholders(url).length === 0, {
      message: `url may only use the placeholders ${URL_PLACEHOLDERS.map((name) => `{${name}}`).join(', ')}`,
    })
    .refine((url) => isHttpUrl(fillUrlPlaceholders(url, () => 'x')), { message: 'url must be an http(s) URL' }),
  /** Header values may reference `${env:NAME}`; they are resolved on the worker and never echoed back. */
  headers: z
    .record(
      z.string().regex(HEADER_NAME_PATTERN, 'invalid HTTP header name'),
      z.string().refine((value) => !hasHeaderControlCharacter(value), {
        message: 'header values may not contain line breaks or other control characters (tab is allowed)',
      }),
    )
    .optional(),
  expectStatus: z.number().int().min(100).max(599).default(200),
  bodyIncludes: z.string().min(1).optional(),
  timeoutMs: timeoutMsSchema,
});

export const commandCheckSchema = z.object({
  type: z.literal('command'),
  /** Program and arguments, run without a shell. */
  argv: z.array(z.string()).min(1).refine((argv) => (argv[0] ?? '') !== '', { message: 'argv[0] must not be empty' }),
  timeoutMs: timeoutMsSchema,
});

/** One activity attempt waits at most this long, within the health activity's 15 minutes. */
export const MAX_CI_STATUS_TIMEOUT_SECONDS = 840;
const CHECK_NAME_PATTERN = /^[^\p{Cc}]{1,255}$/u;

/** Status contexts or check-run names to wait for, or every check branch protection requires. */
export const wantedChecksSchema = z
  .union([
    z.literal('all-required'),
    z.array(z.string().regex(CHECK_NAME_PATTERN, 'must be a status context or check name: 1 to 255 characters, no line breaks or control characters')).min(1).max(50),
  ])
  .default('all-required');

/**
 * The forge's CI verdict on the deployed commit (the target needs a forge): the named status contexts or check
 * runs, or every check branch protection requires, must succeed within `timeoutSeconds`; pending waits, a failure or
 * the time running out is a failed sample. Checks already failing on the commit before the patch do not count.
 */
export const ciStatusCheckSchema = z
  .object({
    type: z.literal('ci-status'),
    checks: wantedChecksSchema,
    timeoutSeconds: z.number().int().min(10).max(MAX_CI_STATUS_TIMEOUT_SECONDS).default(600),
  })
  .strict();

export const healthCheckSchema = z.discriminatedUnion('type', [httpCheckSchema, commandCheckSchema, ciStatusCheckSchema]);

export type HttpCheck = z.infer<typeof httpCheckSchema>;
export type CommandCheck = z.infer<typeof commandCheckSchema>;
export type CiStatusCheck = z.infer<typeof ciStatusCheckSchema>;
export type HealthCheck = z.infer<typeof healthCheckSchema>;
/** What a client may send: defaults not yet applied. */
export type HealthCheckInput = z.input<typeof healthCheckSchema>;
