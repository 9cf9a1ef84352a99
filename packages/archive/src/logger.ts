/** The logging surface the archive needs; a winston logger satisfies it. */
export interface ArchiveLogger {
  info(message: string, meta?: Record<string, unknown>): unknown;
  warn(message: string, meta?: Record<string, unknown>): unknown;
  error(message: string, meta?: Record<string, unknown>): unknown;
}

export const silentLogger: ArchiveLogger = {
  info: () => undefined,
  warn: () => undefined,
  error: () => undefined,
};
