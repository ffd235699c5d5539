import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { inspect } from 'node:util';
import { ForgeCredentialsError, loadForgeCredentials } from '../../src/forges/credentials';

const SECRET = 'tok-3f9a-very-secret';

function load(inline: string, env: NodeJS.ProcessEnv = {}, file?: string) {
  return loadForgeCredentials({ file, inline }, env);
}

describe('forge credentials', () => {
  it('reads tokens inline, from a variable or from a file, and never shows them', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wpa-cred-'));
    writeFileSync(path.join(dir, 'token'), `${SECRET}\n`);
    const credentials = load(
      [
        'gitea-bot: { forge: gitea, baseUrl: "http://127.0.0.1:3000/", tokenEnv: BOT_TOKEN }',
        `file-bot: { forge: gitea, baseUrl: "https://git.example.com", tokenFile: "${path.join(dir, 'token')}" }`,
        `gh: { forge: github, baseUrl: "https://api.github.com", token: "${SECRET}" }`,
        `ghes: { forge: github, baseUrl: "https://ghe.example.com/api/v3", token: "${SECRET}" }`,
      ].join('\n'),
      { BOT_TOKEN: SECRET },
    );
    expect([...credentials.keys()]).toEqual(['gitea-bot', 'file-bot', 'gh', 'ghes']);
    for (const credential of credentials.values()) {
      expect(credential.auth()).toEqual({ kind: 'token', token: SECRET });
      expect(JSON.stringify(credential)).not.toContain(SECRET);
      expect(inspect(credential, { depth: 5 })).not.toContain(SECRET);
    }
    expect(credentials.get('gitea-bot')).toMatchObject({ baseUrl: 'http://127.0.0.1:3000', gitUrl: 'http://127.0.0.1:3000/' });
    expect(credentials.get('gh')).toMatchObject({ gitUrl: 'https://github.com/' });
    expect(credentials.get('ghes')).toMatchObject({ gitUrl: 'https://ghe.example.com/' });
  });

  it('reads a GitHub App from its id and private key file', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wpa-cred-'));
    writeFileSync(path.join(dir, 'app.pem'), '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----\n');
    const credentials = load(`app: { forge: github, baseUrl: "https://api.github.com", appId: 42, privateKeyFile: "${path.join(dir, 'app.pem')}", installationId: 7 }`);
    expect(credentials.get('app')?.auth()).toEqual({ kind: 'github-app', appId: '42', privateKey: '-----BEGIN PRIVATE KEY-----\nabc\n-----END PRIVATE KEY-----', installationId: 7 });
    expect(JSON.stringify(credentials.get('app'))).not.toContain('PRIVATE KEY');
  });

  it('merges the file and the variable, refusing a name defined twice', () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'wpa-cred-'));
    const file = path.join(dir, 'forges.yml');
    writeFileSync(file, `one: { forge: gitea, baseUrl: "https://a.example", token: "${SECRET}" }\n`);
    expect([...load(`two: { forge: gitea, baseUrl: "https://b.example", token: "${SECRET}" }`, {}, file).keys()]).toEqual(['one', 'two']);
    expect(() => load(`one: { forge: gitea, baseUrl: "https://b.example", token: "${SECRET}" }`, {}, file)).toThrow('credential one is defined twice');
  });

  it.each([
    ['a token for an App-less gitea given twice', `x: { forge: gitea, baseUrl: "https://a.example", token: "${SECRET}", tokenEnv: T }`, /x: token is given more than once/],
    ['no secret', 'x: { forge: gitea, baseUrl: "https://a.example" }', /credential x needs a token/],
    ['an App on gitea', `x: { forge: gitea, baseUrl: "https://a.example", appId: 1, privateKey: "${SECRET}" }`, /GitHub App setting/],
    ['a missing variable', 'x: { forge: gitea, baseUrl: "https://a.example", tokenEnv: NOT_SET_HERE }', /NOT_SET_HERE, which is not set/],
    ['a URL with credentials', `x: { forge: gitea, baseUrl: "https://user:${SECRET}@a.example", token: t }`, /x\.baseUrl: must be an http\(s\) URL without credentials/],
    ['a non-http URL', 'x: { forge: gitea, baseUrl: "file:///etc", token: t }', /x\.baseUrl/],
    ['an unknown forge', 'x: { forge: gitlab, baseUrl: "https://a.example", token: t }', /x\.forge/],
    ['an unknown field', 'x: { forge: gitea, baseUrl: "https://a.example", token: t, password: p }', /x/],
    ['a bad name', '"../x": { forge: gitea, baseUrl: "https://a.example", token: t }', /credential names are/],
    ['not YAML', 'x: [unclosed', /FORGE_CREDENTIALS is not YAML/],
  ])('refuses %s, naming the entry and never the secret', (_case, document, message) => {
    let thrown: unknown;
    try {
      load(document);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ForgeCredentialsError);
    expect((thrown as Error).message).toMatch(message);
    expect((thrown as Error).message).not.toContain(SECRET);
  });

  it('has no credentials when nothing is configured', () => {
    expect(loadForgeCredentials({ file: undefined, inline: undefined }).size).toBe(0);
  });
});
