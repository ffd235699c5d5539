/**
 * What the worker would refuse in a target's health checks, found when the target is registered rather than at
 * the first health round of a rollout.
 */
import type { Config } from '../config';
import { AddressPolicy } from './address-policy';
import { isHealthSecretName, unavailableVariableMessage } from './header-secrets';
import { envReferenceNames, fillUrlPlaceholders, type HealthCheck, type HttpCheck } from './schemas';

/** `label` names the check in each sentence, e.g. `health check 2`. */
function httpCheckProblems(check: HttpCheck, label: string, policy: AddressPolicy, settings: Config['health']): string[] {
  const variableProblems = Object.entries(check.headers ?? {}).flatMap(([headerName, template]) =>
    envReferenceNames(template)
      .filter((variable) => !isHealthSecretName(variable, settings))
      .map((variable) => `${label}: ${unavailableVariableMessage(headerName, variable)}`),
  );
  // A placeholder in the host (`https://{target}.example.com`) is judged on the worker, once it is filled.
  const refusal = policy.hostRefusal(new URL(fillUrlPlaceholders(check.url, () => 'x')).hostname);
  const hostProblems = refusal ? [`${label} would be refused: ${refusal.address} ${refusal.reason}`] : [];
  return [...variableProblems, ...hostProblems];
}

/**
 * Problems of health checks that passed healthCheckSchema, one sentence per problem (`health check 2: header
 * "X-Db" asks for environment variable DATABASE_URL, which is not available: ...`); empty when there are none.
 * Reports `${env:NAME}` names the worker will never send, and URL hosts that are IP literals or cloud metadata
 * names the address policy refuses. Pure: no network, no environment; a host name's addresses are only judged on
 * the worker, when it is resolved.
 *
 * For the API: the targets route calls it with `config.health` when a target is registered or its health checks
 * change, and answers 422 with these sentences when the list is not empty.
 */
export function healthCheckProblems(checks: readonly HealthCheck[], settings: Config['health']): string[] {
  const policy = new AddressPolicy(settings);
  return checks.flatMap((check, index) =>
    check.type === 'http' ? httpCheckProblems(check, `health check ${index + 1}`, policy, settings) : [],
  );
}
