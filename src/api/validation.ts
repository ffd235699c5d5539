/**
 * Input validation at the API's door, in one place: every string of every request body and query is checked for
 * characters that have no business in stored text (NUL, control characters, bidirectional overrides, broken
 * UTF-16), and zod's findings are turned into sentences a person understands, naming the field.
 */
import type { RequestHandler } from 'express';
import { z } from 'zod';
import '../util/validation-messages';
import { HttpProblem } from './problem';

/** One refused input: the field (dotted path, `[i]` for list items) and a sentence about it. */
export interface FieldProblem {
  path: string;
  message: string;
}

const CHARACTER_NAMES: Record<number, string> = {
  0x00: 'a NUL character',
  0x08: 'a backspace',
  0x0b: 'a vertical tab',
  0x0c: 'a form feed',
  0x1b: 'an escape character',
  0x7f: 'a DEL character',
  0x2028: 'a line separator',
  0x2029: 'a paragraph separator',
  0xfeff: 'a zero-width no-break space',
};

/** Bidirectional embeddings, overrides and isolates: they make text display in another order than it is stored. */
function isBidiControl(code: number): boolean {
  return (code >= 0x202a && code <= 0x202e) || (code >= 0x2066 && code <= 0x2069);
}

function describe(code: number): string {
  const hex = `U+${code.toString(16).toUpperCase().padStart(4, '0')}`;
  const name = CHARACTER_NAMES[code] ?? (isBidiControl(code) ? 'a bidirectional text control' : 'a control character');
  return `${name} (${hex})`;
}

function position(text: string, index: number): string {
  return `${describe(text.charCodeAt(index))} at position ${index + 1}`;
}

/**
 * Why a string cannot be stored at all, whatever the field: NUL, the other C0 control characters except tab, line
 * feed and carriage return (fields decide about those), DEL, and lone UTF-16 surrogates (which would be stored as
 * U+FFFD, silently changing the text).
 */
export function forbiddenCharacter(text: string): string | undefined {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code >= 0xd800 && code <= 0xdfff) {
      if (code <= 0xdbff && (text.charCodeAt(index + 1) & 0xfc00) === 0xdc00) {
        index += 1;
        continue;
      }
      return `contains a broken character (an unpaired UTF-16 surrogate) at position ${index + 1}`;
    }
    if ((code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || code === 0x7f) return `contains ${position(text, index)}; remove it`;
  }
  return undefined;
}

/**
 * Characters that make a name, title or comment display differently than it is stored: C1 controls,
 * bidirectional controls (Trojan Source), line and paragraph separators, byte-order marks and noncharacters.
 * Text fields refuse them; a diff may need some of them (a file's byte-order mark), so it is checked apart.
 */
export function misleadingCharacter(text: string): string | undefined {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if ((code >= 0x80 && code <= 0x9f) || isBidiControl(code) || code === 0x2028 || code === 0x2029 || code === 0xfeff || code === 0xfffe || code === 0xffff) {
      return `contains ${position(text, index)}, which changes how the text is displayed; remove it`;
    }
  }
  return undefined;
}

/** Bidirectional controls in a diff: code that reads differently than it runs; such changes are refused. */
export function bidiControlProblem(text: string): string | undefined {
  for (let index = 0; index < text.length; index++) {
    if (isBidiControl(text.charCodeAt(index))) {
      return `contains ${position(text, index)}: bidirectional controls make code read differently than it runs (Trojan Source), so such changes are refused`;
    }
  }
  return undefined;
}

/** Dotted paths as clients know them from the API's docs: `rollout.waves.0.percent`. */
function joinPath(parent: string, key: string | number): string {
  const part = typeof key === 'number' ? String(key) : key;
  return parent === '' ? part : `${parent}.${part}`;
}

/** Every string (object keys included) of a parsed JSON value or query object that cannot be stored. */
export function unsafeStrings(value: unknown, path = ''): FieldProblem[] {
  if (typeof value === 'string') {
    const problem = forbiddenCharacter(value);
    return problem ? [{ path, message: sentence(path, problem) }] : [];
  }
  if (Array.isArray(value)) return value.flatMap((item, index) => unsafeStrings(item, joinPath(path, index)));
  if (typeof value === 'object' && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => {
      const keyProblem = forbiddenCharacter(key);
      const here = keyProblem ? [{ path, message: sentence(path, `has a field name that ${keyProblem}`) }] : [];
      return [...here, ...unsafeStrings(item, joinPath(path, keyProblem ? JSON.stringify(key) : key))];
    });
  }
  return [];
}

/** The problem+json answer for refused input: 422 (or `status`), the first sentence as detail, all in `errors`. */
export function fieldProblems(problems: readonly FieldProblem[], status = 422): HttpProblem {
  const [first] = problems;
  const more = problems.length > 1 ? ` (${problems.length - 1} more problem${problems.length > 2 ? 's' : ''} in "errors")` : '';
  return new HttpProblem(status, `${first?.message ?? 'The request is not valid.'}${more}`, { errors: problems });
}

/** Refuses any request whose body or query holds a string that cannot be stored, before a route sees it. */
export const refuseUnsafeText: RequestHandler = (req, _res, next) => {
  // Like the schemas: a bad query string is a 400, a bad body a 422.
  const inQuery = unsafeStrings(req.query, 'query');
  const inBody = unsafeStrings(req.body as unknown);
  if (inQuery.length > 0) next(fieldProblems(inQuery, 400));
  else next(inBody.length > 0 ? fieldProblems(inBody) : undefined);
};

// ---------------------------------------------------------------------------------------------------------------
// zod findings as sentences
// ---------------------------------------------------------------------------------------------------------------

/** "title must not be empty." from a path and a predicate; a predicate with its own subject gets a colon. */
function sentence(path: string, predicate: string): string {
  const subject = path === '' ? 'The request body' : path.startsWith('query') ? `The query parameter ${path.slice('query.'.length)}` : path;
  const ownSubject = !/^(must|is|has|contains|needs|names|uses|may)\b/.test(predicate);
  // The field's name starts the sentence as the client spells it (`healthChecks.0.url`), not capitalized.
  const text = ownSubject ? `${subject}: ${predicate}` : `${subject} ${predicate}`;
  return /[.!?]$/.test(text) ? text : `${text}.`;
}


function pathText(path: readonly PropertyKey[], prefix: string): string {
  return path.reduce<string>((text, key) => joinPath(text, typeof key === 'number' ? key : String(key)), prefix);
}

/** zod's findings as FieldProblems; `prefix` names where the input came from (`query`, or '' for the body). */
export function zodProblems(error: z.ZodError, prefix = ''): FieldProblem[] {
  return error.issues.map((issue) => {
    const path = pathText(issue.path, prefix);
    return { path, message: sentence(path, issue.message) };
  });
}

function parseWith<T extends z.ZodType>(schema: T, input: unknown, status: number, prefix: string): z.infer<T> {
  const result = schema.safeParse(input);
  if (result.success) return result.data;
  throw fieldProblems(zodProblems(result.error, prefix), status);
}

/** A request body, or 422 naming each invalid field. */
export function parseBody<T extends z.ZodType>(schema: T, body: unknown): z.infer<T> {
  return parseWith(schema, body, 422, '');
}

/** A query string, or 400 naming each invalid parameter. */
export function parseQuery<T extends z.ZodType>(schema: T, query: unknown): z.infer<T> {
  return parseWith(schema, query, 400, 'query');
}

/** Path parameters (ids), or 400 naming the invalid one. */
export function parseParams<T extends z.ZodType>(schema: T, params: unknown): z.infer<T> {
  return parseWith(schema, params, 400, '');
}

// ---------------------------------------------------------------------------------------------------------------
// Text fields
// ---------------------------------------------------------------------------------------------------------------

function refuseMisleading(text: string, context: z.core.$RefinementCtx<string>): void {
  const problem = misleadingCharacter(text);
  if (problem) context.addIssue({ code: 'custom', message: problem, continue: false });
}

/** A one-line text field: trimmed, not empty, at most `max` characters, no line breaks, tabs or misleading characters. */
export function oneLine(max: number) {
  return z
    .string()
    .trim()
    .min(1)
    .max(max)
    .refine((text) => !/[\r\n\t]/.test(text), { message: 'must be one line (no line breaks or tabs)', abort: true })
    .superRefine(refuseMisleading);
}

/** A multi-line text field: trimmed, at most `max` characters; line feeds and tabs, CR only before LF. */
export function multiLine(max: number) {
  return z
    .string()
    .trim()
    .max(max)
    .refine((text) => !/\r(?!\n)/.test(text), { message: 'contains a carriage return that does not end a line; use \\n line breaks' })
    .superRefine(refuseMisleading);
}
