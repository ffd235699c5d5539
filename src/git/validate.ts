/** Checks of caller-supplied names before they reach git's argv: each refusal is an InvalidInputError. */
import { InvalidInputError } from './errors';

/** True when the text has a C0 control character or DEL (line breaks included). */
export function hasControlCharacter(text: string): boolean {
  for (let index = 0; index < text.length; index++) {
    const code = text.charCodeAt(index);
    if (code < 0x20 || code === 0x7f) return true;
  }
  return false;
}

/** Replaces the user-info part of URLs (`https://user:token@host`) so tokens never reach logs or errors. */
export function redactCredentials(text: string): string {
  return text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
}

/** The rules of `git check-ref-format` for a branch name (without the refs/heads/ prefix). */
export function isValidBranchName(branch: string): boolean {
  if (branch === '' || branch === '@' || branch.startsWith('-') || branch.endsWith('/') || branch.endsWith('.')) return false;
  if (hasControlCharacter(branch) || /[ ~^:?*[\\]|\.\.|@\{|\/\//.test(branch)) return false;
  return branch.split('/').every((part) => part !== '' && !part.startsWith('.') && !part.endsWith('.lock'));
}

export function assertBranchName(branch: string): void {
  if (!isValidBranchName(branch)) throw new InvalidInputError(`invalid branch name: ${JSON.stringify(branch)}`);
}

/** A ref or SHA for rev-parse/fetch: not an option, no whitespace. */
export function assertRef(ref: string): void {
  if (ref === '' || ref.startsWith('-') || ref.includes(' ') || hasControlCharacter(ref)) {
    throw new InvalidInputError(`invalid ref: ${JSON.stringify(ref)}`);
  }
}

export function assertTrailerKey(key: string): void {
  if (!/^[A-Za-z0-9][A-Za-z0-9-]*$/.test(key)) throw new InvalidInputError(`invalid trailer key: ${JSON.stringify(key)}`);
}

/** One line, no surrounding whitespace: what `git interpret-trailers` gives back unchanged. */
export function assertTrailerValue(key: string, value: string): void {
  if (value === '' || value !== value.trim() || hasControlCharacter(value)) {
    throw new InvalidInputError(`invalid value for trailer ${key}: ${JSON.stringify(value)}`);
  }
}

/**
 * Why a commit subject is refused, as a predicate, or undefined. The subject is the message's only free text, so
 * it must be one line (a second paragraph could hold trailers) and must not start with "---", which git's trailer
 * parser reads as the start of a patch: the trailers after it would vanish.
 */
export function commitSubjectProblem(subject: string): string | undefined {
  if (subject.trim() === '') return 'must not be empty';
  if (hasControlCharacter(subject)) return 'must be one line without control characters';
  if (subject !== subject.trim()) return 'must not start or end with spaces';
  if (subject.startsWith('---')) return 'must not start with "---", which git reads as the start of a patch';
  return undefined;
}
