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
