import { findSecretLiterals, maskSecret } from '../../src/security/secret-patterns';

// Assembled at run time so this file never contains a scannable credential.
const body36 = 'a1B2c3D4e5F6g7H8i9J0k1L2m3N4o5P6q7R8';
const githubToken = ['gh', 'p_', body36].join('');
const npmToken = ['np', 'm_', body36].join('');
const awsKeyId = ['AK', 'IA', 'Z7Q4XW3PLM9K2RTY'].join('');
const pemKey = ['-----BEGIN RSA ', 'PRIVATE KEY-----\n', 'MIIEpAIBAAKCAQEA0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78L\n'].join('');

describe('findSecretLiterals', () => {
  it('finds known token formats with exact offsets and masks them', () => {
    const text = `token=${githubToken} other ${npmToken}`;
    expect(findSecretLiterals(text)).toEqual([
      { patternId: 'github-token', description: 'GitHub token', start: 6, end: 46, masked: 'ghp_****' },
      { patternId: 'npm-token', description: 'npm access token', start: 53, end: 93, masked: 'npm_****' },
    ]);
  });

  it('reports only the secret group of contextual patterns', () => {
    const secret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYz1x2y3z4A5';
    const text = `aws_secret_access_key = "${secret}"`;
    const [literal] = findSecretLiterals(text);
    expect(literal?.patternId).toBe('aws-secret-access-key');
    expect(text.slice(literal?.start, literal?.end)).toBe(secret);
    expect(literal?.masked).toBe('****');
  });

  it('finds AWS key ids and private keys with key material', () => {
    expect(findSecretLiterals(`id: ${awsKeyId}`).map((l) => l.patternId)).toEqual(['aws-access-key-id']);
    expect(findSecretLiterals(`key: |\n  ${pemKey.replace(/\n/g, '\n  ')}`).map((l) => l.patternId)).toEqual(['private-key']);
  });

  it('ignores placeholders, key headers around expressions and tokens embedded in longer identifiers', () => {
    const ignored = [
      ['gh', 'p_', 'x'.repeat(36)].join(''),
      ['AK', 'IA', 'IOSFODNN7EXAMPLE'].join(''),
      ['-----BEGIN ', 'PRIVATE KEY-----\n', '${{ secrets.KEY }}\n'].join(''),
      `my${githubToken}`,
      `${githubToken}Z`,
    ];
    for (const text of ignored) expect(findSecretLiterals(text)).toEqual([]);
  });

  it('masks everything after the public prefix', () => {
    expect(maskSecret('xoxb-123-456', 5)).toBe('xoxb-****');
    expect(maskSecret('short', 10)).toBe('short');
  });
});
