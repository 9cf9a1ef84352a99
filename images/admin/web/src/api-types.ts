// The shapes of docs/admin-api.md, as the browser sees them.

export const LEVELS = ['fatal', 'error', 'warn', 'info', 'http', 'verbose', 'debug', 'silly'] as const;
export type Level = (typeof LEVELS)[number];

export interface Envelope {
  id: string;
  channel: string;
  type: string;
  ts: string;
  source: { service: string; instance?: string; host?: string };
  level?: Level;
  message?: string;
  data?: Record<string, unknown>;
  v: 1;
}

/** One entry of the live stream. */
export interface LiveEntry {
  channel: string;
  /** The broker id. */
  id: string;
  envelope: Envelope;
}

export interface ArchivedMessage {
  id: string;
  channel: string;
  brokerId: string;
  ts: string;
  type: string;
  service: string;
  instance?: string;
  host?: string;
  level?: Level;
  message?: string;
  data?: Record<string, unknown>;
  cursor: string;
}

export interface SearchPage {
  records: ArchivedMessage[];
  next: string | null;
}

export interface Status {
  broker: { ok: boolean; backend?: string; error?: string };
  archive: { ok: boolean; error?: string };
  docker: { ok: boolean; project?: string; error?: string };
  studio: { url: string; reachable: boolean };
}

export interface GroupStats {
  name: string;
  consumers: number;
  pending: number;
  lastDeliveredId: string;
  lag: number | null;
  oldestPendingId: string | null;
  oldestPendingAgeMs: number | null;
}

export interface ChannelStats {
  channel: string;
  length: number;
  firstId: string | null;
  lastId: string | null;
  groups: GroupStats[];
  deadLetters: number;
}

export interface DeadLetter {
  id: string;
  ts: string;
  originalId: string | null;
  group: string | null;
  deliveries: number | null;
  /** Why the consumer gave up (the stack stays on the server); a plain string from older admins. */
  error: { name?: string; message?: string; issues?: unknown } | string | null;
  /** The original envelope; null when the entry was not a valid envelope (then `rawFields` holds it). */
  envelope: Envelope | null;
  rawFields?: unknown;
}

export interface ContainerInfo {
  id: string;
  name: string;
  service: string | null;
  image: string;
  state: string;
  status: string;
  health: string | null;
  startedAt: string | null;
  uptimeSeconds?: number | null;
  ports: unknown[];
}

export interface ContainerStats {
  cpuPercent: number;
  memoryBytes: number;
  memoryLimitBytes: number;
}

export interface LogLine {
  stream: string;
  ts: string;
  text: string;
}

export interface Issue {
  field: string;
  rule: string;
  message: string;
}
