import { healthCheckProblems } from '../../src/health/registration-problems';
import { healthCheckSchema, type HealthCheck } from '../../src/health/schemas';

const settings = { headerEnv: ['STATUS_PAGE_TOKEN'], allowCidrs: [], denyCidrs: ['10.0.0.0/8'] };
const RULE = 'only variables whose names start with HEALTH_SECRET_ or are listed in HEALTH_HEADER_ENV, set on the worker, can be used';

function checks(...inputs: unknown[]): HealthCheck[] {
  return inputs.map((input) => healthCheckSchema.parse(input));
}

describe('healthCheckProblems', () => {
  it('finds nothing wrong with allowed variables and hosts', () => {
    const valid = checks(
      { type: 'http', url: 'https://{target}.example.com/health', headers: { Authorization: 'Bearer ${env:HEALTH_SECRET_STATUS}' } },
      { type: 'http', url: 'http://127.0.0.1:8099/ok', headers: { 'X-Token': '${env:STATUS_PAGE_TOKEN}', 'X-Plain': 'v' } },
      { type: 'http', url: 'http://[::1]:8099/ok' },
      { type: 'command', argv: ['true'] },
    );
    expect(healthCheckProblems(valid, settings)).toEqual([]);
  });

  it('names each variable the worker would never send, service settings included', () => {
    const problems = healthCheckProblems(
      checks(
        { type: 'command', argv: ['true'] },
        {
          type: 'http',
          url: 'https://status.example.com/x',
          headers: { 'X-Db': '${env:DATABASE_URL}', Authorization: 'Bearer ${env:JWT_SECRET} ${env:HEALTH_SECRET_OK} ${env:HOME}' },
        },
      ),
      { ...settings, headerEnv: ['DATABASE_URL'] },
    );
    expect(problems).toEqual([
      `health check 2: header "X-Db" asks for environment variable DATABASE_URL, which is not available: ${RULE}`,
      `health check 2: header "Authorization" asks for environment variable JWT_SECRET, which is not available: ${RULE}`,
      `health check 2: header "Authorization" asks for environment variable HOME, which is not available: ${RULE}`,
    ]);
  });

  it('refuses IP-literal and metadata hosts the worker would refuse, in any spelling', () => {
    const problems = healthCheckProblems(
      checks(
        { type: 'http', url: 'http://0xa9.254.169.254/latest/meta-data/' },
        { type: 'http', url: 'http://[::ffff:a9fe:a9fe]/' },
        { type: 'http', url: 'http://metadata.google.internal/computeMetadata/v1/?x={target}' },
        { type: 'http', url: 'http://10.1.2.3:8080/health' },
        { type: 'http', url: 'http://[fe80::1]/' },
        { type: 'http', url: 'http://health.{target}.example.com/' },
      ),
      settings,
    );
    expect(problems).toEqual([
      'health check 1 would be refused: 169.254.169.254 is a cloud metadata address (AWS, Azure, Google Cloud, Oracle, OpenStack, DigitalOcean)',
      'health check 2 would be refused: ::ffff:a9fe:a9fe (IPv4-mapped 169.254.169.254) is a cloud metadata address (AWS, Azure, Google Cloud, Oracle, OpenStack, DigitalOcean)',
      'health check 3 would be refused: metadata.google.internal is a cloud metadata host name (Google Cloud)',
      'health check 4 would be refused: 10.1.2.3 is inside 10.0.0.0/8, which HEALTH_DENY_CIDRS refuses',
      'health check 5 would be refused: fe80::1 is a link-local address (cloud metadata services live there)',
    ]);
  });
});
