/**
 * Plain-data results of target health checks. Kept free of runtime imports: Temporal workflow code receives
 * these values from activities and evaluates them (see evaluate.ts).
 */

export type HealthCheckType = 'http' | 'command' | 'ci-status';

/** One measurement of one check on one target. */
export interface HealthSample {
  ok: boolean;
  checkType: HealthCheckType;
  /**
   * Stable, secret-free label of the check that produced the sample (e.g. `GET https://{target}.example/health`),
   * so consecutive failures are counted per check when a target has several.
   */
  check: string;
  /** One short line, redacted: why the check passed or failed. Never contains header values or response bodies. */
  detail: string;
  latencyMs: number;
  /** HTTP status, when a response arrived. */
  status?: number;
  /** Exit code of a command check, when the process exited on its own. */
  exitCode?: number;
  /**
   * True when the check could not be taken at all (the worker could not run it: configuration, sandbox, a failed
   * activity), as opposed to a check that ran and failed; counted against the error limit, not the failure limit.
   */
  error?: boolean;
  /** ISO 8601 time the check started. */
  at: string;
}
