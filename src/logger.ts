import pino, { type Logger } from 'pino';
import { DefaultLogger, type LogLevel, Runtime } from '@temporalio/worker';

export function createLogger(level: string, name = 'wpa'): Logger {
  return pino({ name, level, base: { pid: process.pid } });
}

const temporalLevels: Record<LogLevel, 'trace' | 'debug' | 'info' | 'warn' | 'error'> = {
  TRACE: 'trace',
  DEBUG: 'debug',
  INFO: 'info',
  WARN: 'warn',
  ERROR: 'error',
};

/**
 * Installs the Temporal Runtime once per process with our logger, and without its own signal handlers: the entry
 * points order the shutdown themselves (stop taking requests, drain the worker, then stop the embedded servers).
 */
export function installTemporalRuntime(logger: Logger): void {
  Runtime.install({
    shutdownSignals: [],
    logger: new DefaultLogger('WARN', (entry) => {
      logger[temporalLevels[entry.level]]({ ...entry.meta, component: 'temporal' }, entry.message);
    }),
  });
}
