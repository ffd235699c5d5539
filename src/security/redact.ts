/**
 * Makes text that users' commands produced (stage logs, command health check details) fit to store and show to
 * viewers: recognized credential formats (secret-patterns.ts) are masked, the values of the variables a target
 * declares for its sandbox are replaced by their names, whatever their format, and control characters (a NUL
 * that PostgreSQL cannot store, terminal escape sequences) become U+FFFD.
 */
import { findSecretLiterals } from './secret-patterns';

/** Shorter declared values are not redacted: `true`, `1` or `dev` would blank out ordinary words. */
const MIN_REDACTED_VALUE_LENGTH = 4;

/** `text` with the declared variables' values (by name: `[redacted: NAME]`) and recognized credentials masked. */
export function redactSecrets(text: string, declared: Readonly<Record<string, string>> = {}): string {
  const values = Object.entries(declared)
    .filter(([, value]) => value.length >= MIN_REDACTED_VALUE_LENGTH)
    // Longest first, so a value that contains another is replaced whole.
    .sort(([, a], [, b]) => b.length - a.length);
  let redacted = text;
  for (const [name, value] of values) redacted = redacted.split(value).join(`[redacted: ${name}]`);
  let masked = '';
  let last = 0;
  for (const literal of findSecretLiterals(redacted)) {
    masked += redacted.slice(last, literal.start) + literal.masked;
    last = literal.end;
  }
  return masked + redacted.slice(last);
}

/** C0 controls but tab and line breaks, DEL, C1 controls. */
const CONTROL_CHARACTERS = /[\p{Cc}]/gu;

/** redactSecrets, then every control character except tab, LF and CR replaced by U+FFFD. */
export function commandOutputForPeople(text: string, declared: Readonly<Record<string, string>> = {}): string {
  return redactSecrets(text, declared).replace(CONTROL_CHARACTERS, (char) => (char === '\t' || char === '\n' || char === '\r' ? char : '\ufffd'));
}
