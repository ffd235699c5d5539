import { ConfigError } from './config';
import { StarterAlreadyRunningError } from './starter-lock';
import { TemporalBinaryError } from './temporal/binaries';

/**
 * Runs a process entry point. Setting and setup problems print one line and exit 2; anything else prints its
 * message (stack only with DEBUG=1) and exits 1.
 */
export function runEntryPoint(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      if (error instanceof ConfigError || error instanceof TemporalBinaryError || error instanceof StarterAlreadyRunningError) {
        process.stderr.write(`${error.message}\n`);
        process.exit(2);
      }
      const message = error instanceof Error ? error.message : String(error);
      process.stderr.write(`${process.env.DEBUG === '1' && error instanceof Error ? error.stack : `error: ${message}`}\n`);
      process.exit(1);
    },
  );
}
