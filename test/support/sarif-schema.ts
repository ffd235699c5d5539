/**
 * Validator for the official SARIF 2.1.0 JSON schema, vendored from an npm package (test/fixtures/sarif/README.md).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import Ajv04, { type ValidateFunction } from 'ajv-draft-04';
import addFormats from 'ajv-formats';

export function sarifValidator(): ValidateFunction {
  const schema = JSON.parse(readFileSync(join(__dirname, '../fixtures/sarif/sarif-2.1.0-rtm.5.json'), 'utf8')) as object;
  // unicodeRegExp off: the official schema's `language` pattern has a stray `]` that is only legal without the u flag.
  const ajv = new Ajv04({ allErrors: true, strict: false, unicodeRegExp: false });
  addFormats(ajv);
  return ajv.compile(schema);
}
