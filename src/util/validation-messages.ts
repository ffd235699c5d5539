/**
 * zod's findings in plain words, for every schema of the service (request bodies, settings, configuration files):
 * each built-in finding becomes a predicate ("must not be empty", "must be one of ...") that callers put after
 * the field's name. Schemas' own messages (refinements) take precedence. Imported for its effect by every module
 * that validates input, so messages do not depend on which module happened to load first.
 */
import { z } from 'zod';

const TYPE_NAMES: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  array: 'a list',
  object: 'an object',
  record: 'an object',
  null: 'null',
};

function typeOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'an object';
  if (typeof value === 'string') return 'text';
  // A coerced setting that was not a number arrives as NaN; a fraction where a whole number belongs, as itself.
  if (typeof value === 'number') return Number.isNaN(value) ? 'text' : String(value);
  return `a ${typeof value}`;
}

function amount(count: number | bigint, unit: string): string {
  return `${count} ${unit}${count === 1 || count === 1n ? '' : 's'}`;
}

function sizeLimit(origin: string, limit: number | bigint, bound: 'least' | 'most', inclusive: boolean | undefined): string {
  switch (origin) {
    case 'string':
      return bound === 'least' && limit === 1 ? 'must not be empty' : `must be at ${bound} ${amount(limit, 'character')} long`;
    case 'array':
    case 'set':
      return bound === 'least' && limit === 1 ? 'must not be empty' : `must have at ${bound} ${amount(limit, 'item')}`;
    default:
      if (inclusive === false) return `must be ${bound === 'least' ? 'greater' : 'less'} than ${limit}`;
      return `must be at ${bound} ${limit}`;
  }
}

const FORMAT_NAMES: Record<string, string> = {
  uuid: 'a UUID',
  guid: 'a UUID',
  url: 'a URL',
  email: 'an email address',
  datetime: 'a date and time in ISO 8601 form (2026-12-01T10:00:00Z)',
  date: 'a date in ISO 8601 form (2026-12-01)',
  ipv4: 'an IPv4 address',
  ipv6: 'an IPv6 address',
  cidrv4: 'an IPv4 CIDR block',
  cidrv6: 'an IPv6 CIDR block',
};

/** A predicate ("must not be empty") for zod's built-in findings; schemas' own messages take precedence. */
function humanIssueMessage(issue: z.core.$ZodRawIssue): string {
  switch (issue.code) {
    case 'invalid_type':
      if (issue.input === undefined) return 'is required';
      return `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}, not ${typeOf(issue.input)}`;
    case 'too_small':
      return sizeLimit(issue.origin, issue.minimum, 'least', issue.inclusive);
    case 'too_big':
      return sizeLimit(issue.origin, issue.maximum, 'most', issue.inclusive);
    case 'invalid_format':
      if (issue.format === 'starts_with' && typeof issue.prefix === 'string') return `must start with "${issue.prefix}"`;
      return FORMAT_NAMES[issue.format] ? `must be ${FORMAT_NAMES[issue.format]}` : 'has an invalid format';
    case 'not_multiple_of':
      return `must be a multiple of ${issue.divisor}`;
    case 'unrecognized_keys':
      return `${issue.keys.length === 1 ? 'has a field that is not known' : 'has fields that are not known'}: ${issue.keys.map((key) => JSON.stringify(key)).join(', ')}`;
    case 'invalid_union':
      return issue.discriminator
        ? `needs "${issue.discriminator}" set to one of the accepted values`
        : 'does not match any of the accepted forms';
    case 'invalid_key':
      return 'has a field name that is not accepted';
    case 'invalid_element':
      return 'has an item that is not accepted';
    case 'invalid_value':
      return issue.values.length === 1
        ? `must be ${JSON.stringify(issue.values[0])}`
        : `must be one of ${issue.values.map((value) => JSON.stringify(value)).join(', ')}`;
    default:
      return 'is not valid';
  }
}

// Schemas' own messages (refinements) win over this; every built-in finding reads as a predicate.
z.config({ customError: humanIssueMessage });
