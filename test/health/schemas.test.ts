import { commandCheckSchema, healthCheckSchema, httpCheckSchema } from '../../src/health/schemas';

describe('health check schemas', () => {
  it('applies defaults to an http check', () => {
    expect(httpCheckSchema.parse({ type: 'http', url: 'https://{target}.example.com/health?sha={commit}' })).toEqual({
      type: 'http',
      url: 'https://{target}.example.com/health?sha={commit}',
      expectStatus: 200,
      timeoutMs: 5000,
    });
  });

  it('caps the timeout at 60 s', () => {
    expect(httpCheckSchema.safeParse({ type: 'http', url: 'https://x.example', timeoutMs: 60_000 }).success).toBe(true);
    expect(httpCheckSchema.safeParse({ type: 'http', url: 'https://x.example', timeoutMs: 60_001 }).success).toBe(false);
    expect(commandCheckSchema.safeParse({ type: 'command', argv: ['true'], timeoutMs: 0 }).success).toBe(false);
  });

  it('rejects unknown placeholders, non-http URLs and bad header names', () => {
    expect(httpCheckSchema.safeParse({ type: 'http', url: 'https://x.example/{sha}' }).success).toBe(false);
    expect(httpCheckSchema.safeParse({ type: 'http', url: 'file:///etc/passwd' }).success).toBe(false);
    expect(httpCheckSchema.safeParse({ type: 'http', url: 'not a url' }).success).toBe(false);
    expect(httpCheckSchema.safeParse({ type: 'http', url: 'https://x.example', headers: { 'Bad Header': 'v' } }).success).toBe(false);
  });

  it.each([
    ['CR LF', 'Bearer x\r\nX-Injected: 1'],
    ['LF', 'a\nb'],
    ['CR', 'a\rb'],
    ['NUL', 'a\u0000b'],
    ['DEL', 'a\u007fb'],
    ['a C1 control', 'a\u0085b'],
    ['a line break inside ${env:...}', '${env:HEALTH_SECRET_A}\n${env:HEALTH_SECRET_B}'],
  ])('refuses a header value containing %s (header injection)', (_what, value) => {
    const parsed = httpCheckSchema.safeParse({ type: 'http', url: 'https://x.example', headers: { 'X-Token': value } });
    expect(parsed.success).toBe(false);
    expect(parsed.error?.issues).toEqual([
      expect.objectContaining({
        path: ['headers', 'X-Token'],
        message: 'header values may not contain line breaks or other control characters (tab is allowed)',
      }),
    ]);
  });

  it('accepts tabs and printable text in header values', () => {
    const headers = { Authorization: 'Bearer ${env:HEALTH_SECRET_TOKEN}', 'X-List': 'a,\tb; c="d" é' };
    expect(httpCheckSchema.parse({ type: 'http', url: 'https://x.example', headers }).headers).toEqual(headers);
  });

  it('requires a non-empty argv for command checks', () => {
    expect(commandCheckSchema.safeParse({ type: 'command', argv: [] }).success).toBe(false);
    expect(commandCheckSchema.safeParse({ type: 'command', argv: [''] }).success).toBe(false);
    expect(commandCheckSchema.parse({ type: 'command', argv: ['curl', '-f', 'x'] }).timeoutMs).toBe(5000);
  });

  it('discriminates on type', () => {
    expect(healthCheckSchema.parse({ type: 'command', argv: ['true'] }).type).toBe('command');
    expect(healthCheckSchema.safeParse({ type: 'tcp', host: 'x' }).success).toBe(false);
  });
});
