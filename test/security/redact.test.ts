import { commandOutputForPeople, redactSecrets } from '../../src/security/redact';

// Assembled at run time so this file never contains a scannable credential.
const githubToken = ['gh', 'p_', 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8'].join('');

describe('redactSecrets', () => {
  it('masks recognized credentials', () => {
    expect(redactSecrets(`push with ${githubToken} failed`)).toBe('push with ghp_**** failed');
  });

  it("replaces every occurrence of a declared variable's value by its name", () => {
    expect(redactSecrets('key=s3cr3t-value; again s3cr3t-value', { API_KEY: 's3cr3t-value' })).toBe('key=[redacted: API_KEY]; again [redacted: API_KEY]');
  });

  it('leaves values shorter than 4 characters alone: they would blank out ordinary words', () => {
    expect(redactSecrets('region eu, debug on', { REGION: 'eu', DEBUG: 'on' })).toBe('region eu, debug on');
  });

  it('replaces a value that contains another declared value whole', () => {
    expect(redactSecrets('url https://user:pass-word@host', { PASSWORD: 'pass-word', URL: 'https://user:pass-word@host' })).toBe('url [redacted: URL]');
  });

  it('names a declared value that is also a recognized credential, and masks undeclared ones', () => {
    expect(redactSecrets(`token ${githubToken}`, { TOKEN: githubToken })).toBe('token [redacted: TOKEN]');
    expect(redactSecrets(`token ${githubToken}`, { OTHER: 'unrelated' })).toBe('token ghp_****');
  });
});

describe('commandOutputForPeople', () => {
  it('makes NUL bytes and terminal escapes harmless, keeps tabs and line breaks, and still redacts', () => {
    expect(commandOutputForPeople('A=1\u0000B=2\u0000\u001b[31mred\u001b[0m\tx\r\ny', { B: 'not-here' })).toBe('A=1\ufffdB=2\ufffd\ufffd[31mred\ufffd[0m\tx\r\ny');
    expect(commandOutputForPeople(`\u0085${githubToken}`)).toBe('\ufffdghp_****');
  });
});
