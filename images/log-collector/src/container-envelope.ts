import type { Level, MessageInput } from '@mupets/broker';
import { redactSecrets } from '@mupets/cargo';
import { lineId, stableId, toIsoMillis } from './docker-time';
import type { AssembledRecord } from './multiline';
import { parseRecord, type ParseDefaults } from './parse-record';
import type { LogPosition } from './position-store';

/** The envelope type of every record read from a container's output. */
export const CONTAINER_LOG_TYPE = 'container.log';

/** What the envelope says about the container a record came from. */
export interface ContainerIdentity {
  id: string;
  /** Container name, without Docker's leading slash. */
  name: string;
  /** Compose service, or null outside compose. */
  service: string | null;
  image: string;
}

// the broker refuses envelopes over 64 KiB: message and data stay well inside it together
const MAX_MESSAGE_CHARS = 24 * 1024;
const MAX_DATA_BYTES = 24 * 1024;

/**
 * The envelope of one record: channel `logs`, type `container.log`, source service = compose
 * service (else the container name), instance = container name, host = the node; `data` = the
 * record's parsed fields plus `docker: { containerId, image, stream }`. The id is the one a cargo
 * service printed, else derived from container and position, so a repeat is recognisable.
 */
export function containerEnvelope(
  record: AssembledRecord<LogPosition>,
  container: ContainerIdentity,
  host: string,
  defaults: ParseDefaults,
): MessageInput & { id: string } {
  const parsed = parseRecord(record.text, record.stream, defaults, record.stack);
  let fields = parsed.fields;
  if (Object.keys(fields).length > 0) {
    fields = redactSecrets(fields) as Record<string, unknown>;
    const json = JSON.stringify(fields);
    if (json.length > MAX_DATA_BYTES / 4) {
      const bytes = Buffer.byteLength(json, 'utf8');
      if (bytes > MAX_DATA_BYTES) {
        fields = { truncated: true, bytes, preview: json.slice(0, 1024) };
      }
    }
  }
  const data: Record<string, unknown> = {
    ...fields,
    docker: { containerId: container.id, image: container.image, stream: record.stream },
  };
  if (record.lines > 1) {
    data.lines = record.lines;
  }
  return {
    id: parsed.envelopeId ?? lineId(container.id, record.position),
    type: CONTAINER_LOG_TYPE,
    ts: parsed.time ?? toIsoMillis(record.ts),
    level: parsed.level,
    message:
      parsed.message.length > MAX_MESSAGE_CHARS
        ? `${parsed.message.slice(0, MAX_MESSAGE_CHARS)}…[truncated]`
        : parsed.message,
    source: { service: container.service ?? container.name, instance: container.name, host },
    data,
  };
}

/**
 * The record published when reading resumes from a position older than the first line Docker
 * still has: the lines in between were rotated away (or deleted) before they were collected.
 * Docker does not say how many there were.
 */
export function gapEnvelope(
  container: ContainerIdentity,
  host: string,
  resumedFrom: LogPosition,
  firstAvailableTs: string,
): MessageInput & { id: string } {
  const level: Level = 'warn';
  return {
    id: stableId(container.id, 'gap', resumedFrom.ts, String(resumedFrom.n), firstAvailableTs),
    type: 'container.log.gap',
    ts: toIsoMillis(firstAvailableTs),
    level,
    message: 'container log lines may have been lost: Docker no longer has the lines after the last one collected',
    source: { service: container.service ?? container.name, instance: container.name, host },
    data: {
      lastCollectedAt: resumedFrom.ts,
      firstAvailableAt: firstAvailableTs,
      lost: 'unknown',
      docker: { containerId: container.id, image: container.image },
    },
  };
}
