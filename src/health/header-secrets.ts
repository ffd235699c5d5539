/**
 * Which environment variables a health check header may send as `${env:NAME}`: names starting with
 * HEALTH_SECRET_ or listed in HEALTH_HEADER_ENV, never one of the service's own settings (database URL, JWT
 * secret, ...). Whoever registers a target chooses the URL the header goes to, so any other variable would leak.
 */
import { type Config, settingNames } from '../config';

export const HEALTH_SECRET_PREFIX = 'HEALTH_SECRET_';

export type HeaderEnvSettings = Pick<Config['health'], 'headerEnv'>;

/** Whether `${env:name}` may be used in a header. */
export function isHealthSecretName(name: string, settings: HeaderEnvSettings): boolean {
  if (settingNames.includes(name)) return false;
  return name.startsWith(HEALTH_SECRET_PREFIX) || settings.headerEnv.includes(name);
}

/**
 * The one sentence for a variable a header cannot use, whether it is not allowed or not set: both cases read the
 * same, so nobody can probe which variables exist on the worker.
 */
export function unavailableVariableMessage(headerName: string, variable: string): string {
  return (
    `header "${headerName}" asks for environment variable ${variable}, which is not available: only variables whose ` +
    `names start with ${HEALTH_SECRET_PREFIX} or are listed in HEALTH_HEADER_ENV, set on the worker, can be used`
  );
}

/**
 * The variables `${env:NAME}` may read, and nothing else. Values live in a private field, out of JSON and
 * util.inspect output. Only healthSecretEnvironment() makes one (the class itself is exported as a type only).
 */
class HealthSecretEnvironment {
  readonly #values: ReadonlyMap<string, string>;

  constructor(values: ReadonlyMap<string, string>) {
    this.#values = values;
  }

  /** The value of an allowed, non-empty variable; undefined for every other name, allowed or not. */
  get(name: string): string | undefined {
    return this.#values.get(name);
  }
}
export type { HealthSecretEnvironment };

/** The allowed subset of the worker's environment (`process.env`), for resolveHttpCheck. Empty values count as unset. */
export function healthSecretEnvironment(
  settings: HeaderEnvSettings,
  env: Readonly<Record<string, string | undefined>>,
): HealthSecretEnvironment {
  const allowed = new Map<string, string>();
  for (const [name, value] of Object.entries(env)) {
    if (value !== undefined && value !== '' && isHealthSecretName(name, settings)) allowed.set(name, value);
  }
  return new HealthSecretEnvironment(allowed);
}
