import type { AppLogger } from '../../src/logger';

/** A logger for the UI router in tests: its lines are not what the tests look at. */
export const silentLogger: AppLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
  debug: () => undefined,
};
