import { Transform, pipeline, type Readable } from 'node:stream';
import Docker from 'dockerode';
import type { AppLogger } from '../logger';
import {
  CONTAINER_REF,
  PROJECT_LABEL,
  belongsToProject,
  displayName,
  projectFilter,
  serviceOf,
} from './compose-labels';
import { ContainerNotFoundError, DockerUnavailableError } from './container-errors';
import { summarizeStats, type ContainerStats, type RawContainerStats } from './container-stats';
import { createLogDemuxer, ownContainerId, type LogLine } from '@mupets/cargo';

export interface ContainerServiceOptions {
  /** The Docker Engine API socket (`DOCKER_SOCKET`). */
  socketPath: string;
  /** The compose project (`ADMIN_COMPOSE_PROJECT`). Absent: read from the admin's own container's label. */
  project?: string | undefined;
  logger: AppLogger;
  /** The id of the container the admin runs in. Default: read from its mounts ({@link ownContainerId}). */
  ownContainerId?: () => Promise<string | undefined>;
  /** A Docker request that takes longer fails as unavailable. Default 10 000 ms (stop and restart get longer). */
  requestTimeoutMs?: number;
  /** Seconds Docker waits for a container to exit on stop or restart before it kills it. Default 10. */
  stopTimeoutSeconds?: number;
}

/** A published or exposed port, as `docker ps` lists it. */
export interface ContainerPort {
  privatePort: number;
  publicPort?: number;
  ip?: string;
  type: string;
}

/** One container of the project, as `GET /api/containers` lists it. */
export interface ContainerSummary {
  /** The full 64-hex id. */
  id: string;
  name: string;
  /** The compose service (label `com.docker.compose.service`). */
  service: string | null;
  image: string;
  /** `created`, `running`, `paused`, `restarting`, `removing`, `exited`, `dead`. */
  state: string;
  /** Docker's human summary, e.g. `Up 5 minutes (healthy)`. */
  status: string;
  /** From the image's or compose's healthcheck: `starting`, `healthy`, `unhealthy`; null without one. */
  health: string | null;
  /** ISO time of the last start; null if it never started. */
  startedAt: string | null;
  /** Seconds since `startedAt` while running, else null. */
  uptimeSeconds: number | null;
  ports: ContainerPort[];
}

/** A container checked to belong to the project: what the router needs to confirm and act. */
export interface ContainerRef {
  id: string;
  name: string;
  project: string;
  service: string | null;
  state: string;
  startedAt: string | null;
  tty: boolean;
}

export type ContainerAction = 'start' | 'stop' | 'restart';

/** The header's Docker status. `error` says why the feature is off (unreachable, project unknown). */
export interface DockerStatus {
  ok: boolean;
  project: string | null;
  error?: string;
}

export interface FollowOptions {
  /** Lines from before the call. Default 0 (only new ones). Ignored with `since`. */
  tail?: number;
  /** Every line written after this RFC 3339 timestamp (to re-attach without a gap or a repeat). */
  since?: string;
}

/**
 * The containers of ONE compose project, over the Docker Engine API. A container outside the
 * project is neither listed nor touchable: every operation inspects it first and answers
 * {@link ContainerNotFoundError} unless its project label matches. Docker failures become
 * {@link DockerUnavailableError}, never a crash.
 */
export interface ContainerService {
  status(): Promise<DockerStatus>;
  /** The project's containers, sorted by service and name. */
  list(): Promise<{ project: string; containers: ContainerSummary[] }>;
  get(ref: string): Promise<ContainerRef>;
  stats(ref: string): Promise<ContainerStats>;
  /** The last `tail` lines, oldest first. */
  logs(ref: string, options: { tail: number }): Promise<LogLine[]>;
  /**
   * New lines as they are written: an object-mode readable of {@link LogLine} that ends when the
   * container stops. Destroy it to stop following.
   */
  followLogs(ref: string, options?: FollowOptions): Promise<Readable>;
  /** Starts, stops or restarts; `changed` is false when it was already started (or stopped). */
  act(ref: string, action: ContainerAction): Promise<{ container: ContainerRef; changed: boolean }>;
}

/** Docker's "zero" time for a container that never started. */
const NEVER = '0001-01-01T00:00:00Z';

/** Creates the service; connects lazily (nothing happens until the first call). */
export function createContainerService(options: ContainerServiceOptions): ContainerService {
  const { socketPath, logger } = options;
  const requestTimeoutMs = options.requestTimeoutMs ?? 10_000;
  const stopTimeoutSeconds = options.stopTimeoutSeconds ?? 10;
  // three clients because docker-modem's timeout is per socket inactivity: a quick one for
  // queries, a patient one for stop/restart, none for a follow that may stay quiet for hours
  const quick = new Docker({ socketPath, timeout: requestTimeoutMs });
  const patient = new Docker({ socketPath, timeout: requestTimeoutMs + stopTimeoutSeconds * 1000 });
  const streaming = new Docker({ socketPath });

  let resolved: { project: string | null; reason?: string } | undefined = options.project
    ? { project: options.project }
    : undefined;

  async function resolveProject(): Promise<{ project: string | null; reason?: string }> {
    if (resolved) {
      return resolved;
    }
    const self = await (options.ownContainerId ?? ownContainerId)();
    const off = (reason: string): { project: null; reason: string } => {
      logger.warn('containers feature off', { reason });
      return { project: null, reason };
    };
    if (!self) {
      resolved = off('the admin does not run in a Docker container; set ADMIN_COMPOSE_PROJECT');
      return resolved;
    }
    let labels: Record<string, string> | null | undefined;
    try {
      labels = (await quick.getContainer(self).inspect()).Config.Labels;
    } catch (error) {
      if (statusOf(error) === 404) {
        resolved = off('the admin does not run in a container of this Docker; set ADMIN_COMPOSE_PROJECT');
        return resolved;
      }
      // unreachable now: try again on the next call
      throw unavailable(error);
    }
    const project = labels?.[PROJECT_LABEL];
    if (!project) {
      resolved = off('the admin container has no compose project label; set ADMIN_COMPOSE_PROJECT');
      return resolved;
    }
    logger.info('compose project detected', { project });
    resolved = { project };
    return resolved;
  }

  async function requireProject(): Promise<string> {
    const { project, reason } = await resolveProject();
    if (!project) {
      throw new DockerUnavailableError(`containers are off: ${reason ?? 'compose project unknown'}`);
    }
    return project;
  }

  async function inspectChecked(ref: string): Promise<Docker.ContainerInspectInfo> {
    if (!CONTAINER_REF.test(ref)) {
      throw new ContainerNotFoundError(ref);
    }
    const project = await requireProject();
    let info: Docker.ContainerInspectInfo;
    try {
      info = await quick.getContainer(ref).inspect();
    } catch (error) {
      throw statusOf(error) === 404 ? new ContainerNotFoundError(ref) : unavailable(error);
    }
    if (!belongsToProject(info.Config.Labels, project)) {
      throw new ContainerNotFoundError(ref);
    }
    return info;
  }

  const get = async (ref: string): Promise<ContainerRef> => toRef(await inspectChecked(ref));

  return {
    async status() {
      try {
        await quick.ping();
      } catch (error) {
        return { ok: false, project: resolved?.project ?? null, error: unavailable(error).message };
      }
      try {
        const { project, reason } = await resolveProject();
        return project ? { ok: true, project } : { ok: false, project: null, error: `containers are off: ${reason}` };
      } catch (error) {
        return { ok: false, project: null, error: (error as Error).message };
      }
    },

    async list() {
      const project = await requireProject();
      let entries: Docker.ContainerInfo[];
      try {
        entries = await quick.listContainers({ all: true, filters: projectFilter(project) });
      } catch (error) {
        throw unavailable(error);
      }
      const now = Date.now();
      const summaries = await Promise.all(
        // the daemon filtered; checked again here so a filter bug can never widen the list
        entries
          .filter((entry) => belongsToProject(entry.Labels, project))
          .map(async (entry) => {
            try {
              return summarize(entry, await quick.getContainer(entry.Id).inspect(), now);
            } catch (error) {
              if (statusOf(error) === 404) {
                return undefined; // removed since the list
              }
              throw unavailable(error);
            }
          }),
      );
      const containers = summaries
        .filter((summary): summary is ContainerSummary => summary !== undefined)
        .sort((a, b) => (a.service ?? '').localeCompare(b.service ?? '') || a.name.localeCompare(b.name));
      return { project, containers };
    },

    get,

    async stats(ref) {
      const { Id } = await inspectChecked(ref);
      try {
        // stream=false (not one-shot): Docker samples twice, so precpu_stats is filled for the CPU %
        const raw = (await quick.getContainer(Id).stats({ stream: false })) as RawContainerStats;
        return summarizeStats(raw);
      } catch (error) {
        throw statusOf(error) === 404 ? new ContainerNotFoundError(ref) : unavailable(error);
      }
    },

    async logs(ref, { tail }) {
      const info = await inspectChecked(ref);
      let raw: Buffer;
      try {
        raw = await quick
          .getContainer(info.Id)
          .logs({ follow: false, stdout: true, stderr: true, timestamps: true, tail });
      } catch (error) {
        throw statusOf(error) === 404 ? new ContainerNotFoundError(ref) : unavailable(error);
      }
      const demux = createLogDemuxer({ tty: info.Config.Tty });
      return [...demux.push(Buffer.isBuffer(raw) ? raw : Buffer.from(raw)), ...demux.end()];
    },

    async followLogs(ref, followOptions = {}) {
      const info = await inspectChecked(ref);
      let source: NodeJS.ReadableStream;
      try {
        source = await streaming.getContainer(info.Id).logs({
          follow: true,
          stdout: true,
          stderr: true,
          timestamps: true,
          // after `since`, every line (no tail); else only the last `tail` and what comes next
          ...(followOptions.since ? { since: toUnixSeconds(followOptions.since) } : { tail: followOptions.tail ?? 0 }),
        });
      } catch (error) {
        throw statusOf(error) === 404 ? new ContainerNotFoundError(ref) : unavailable(error);
      }
      const demux = createLogDemuxer({ tty: info.Config.Tty });
      const since = followOptions.since;
      const keep = (line: LogLine): boolean => !since || !line.ts || compareTimestamps(line.ts, since) > 0;
      const lines = new Transform({
        readableObjectMode: true,
        transform(chunk: Buffer, _encoding, done) {
          for (const line of demux.push(chunk)) {
            if (keep(line)) {
              this.push(line);
            }
          }
          done();
        },
        flush(done) {
          for (const line of demux.end()) {
            if (keep(line)) {
              this.push(line);
            }
          }
          done();
        },
      });
      // destroying `lines` (the client left) also closes the request to Docker
      pipeline(source, lines, (error) => {
        if (error && error.code !== 'ERR_STREAM_PREMATURE_CLOSE') {
          logger.debug('log follow ended with an error', { container: info.Id, error: error.message });
        }
      });
      return lines;
    },

    async act(ref, action) {
      const { Id } = await inspectChecked(ref);
      const container = patient.getContainer(Id);
      let changed = true;
      try {
        if (action === 'start') {
          await container.start();
        } else if (action === 'stop') {
          await container.stop({ t: stopTimeoutSeconds });
        } else {
          await container.restart({ t: stopTimeoutSeconds });
        }
      } catch (error) {
        const status = statusOf(error);
        if (status === 304) {
          changed = false; // already started / already stopped
        } else if (status === 404) {
          throw new ContainerNotFoundError(ref);
        } else {
          throw unavailable(error);
        }
      }
      return { container: await get(Id), changed };
    },
  };
}

function toRef(info: Docker.ContainerInspectInfo): ContainerRef {
  return {
    id: info.Id,
    name: displayName(info.Name),
    project: info.Config.Labels?.[PROJECT_LABEL] ?? '',
    service: serviceOf(info.Config.Labels),
    state: info.State.Status,
    startedAt: startedAtOf(info),
    tty: info.Config.Tty,
  };
}

function summarize(entry: Docker.ContainerInfo, info: Docker.ContainerInspectInfo, now: number): ContainerSummary {
  const startedAt = startedAtOf(info);
  const running = info.State.Running;
  return {
    id: info.Id,
    name: displayName(info.Name),
    service: serviceOf(info.Config.Labels),
    image: info.Config.Image,
    state: info.State.Status,
    status: entry.Status,
    health: info.State.Health?.Status ?? null,
    startedAt,
    uptimeSeconds: running && startedAt ? Math.max(0, Math.floor((now - Date.parse(startedAt)) / 1000)) : null,
    ports: (entry.Ports ?? []).map((port) => ({
      privatePort: port.PrivatePort,
      ...(port.PublicPort ? { publicPort: port.PublicPort } : {}),
      ...(port.IP ? { ip: port.IP } : {}),
      type: port.Type,
    })),
  };
}

function startedAtOf(info: Docker.ContainerInspectInfo): string | null {
  const startedAt = info.State.StartedAt;
  return startedAt && startedAt !== NEVER ? startedAt : null;
}

/** The HTTP status Docker answered with, if it answered. */
function statusOf(error: unknown): number | undefined {
  const statusCode = (error as { statusCode?: unknown } | null)?.statusCode;
  return typeof statusCode === 'number' ? statusCode : undefined;
}

/** Any other Docker failure: unreachable, timed out, or an error answer. */
function unavailable(error: unknown): DockerUnavailableError {
  if (error instanceof DockerUnavailableError) {
    return error;
  }
  const status = statusOf(error);
  const detail = (error as { json?: { message?: unknown } } | null)?.json?.message;
  const reason = typeof detail === 'string' ? detail : error instanceof Error ? error.message : String(error);
  return new DockerUnavailableError(
    status === undefined ? `docker is unreachable: ${reason}` : `docker failed (${status}): ${reason}`,
    { cause: error },
  );
}

/** RFC 3339 with nanoseconds → Docker's `since` (seconds with a fraction), without losing digits. */
export function toUnixSeconds(ts: string): string {
  const match = /^(.*T\d{2}:\d{2}:\d{2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2})$/.exec(ts);
  if (!match) {
    return String(Math.floor(Date.parse(ts) / 1000));
  }
  const seconds = Math.floor(Date.parse(`${match[1]}${match[3]}`) / 1000);
  return `${seconds}.${(match[2] ?? '').padEnd(9, '0').slice(0, 9)}`;
}

/** Orders two Docker timestamps (UTC, `Z`, nanoseconds), which `Date` would cut to milliseconds. */
export function compareTimestamps(a: string, b: string): number {
  const [sa, na] = [toUnixSeconds(a), toUnixSeconds(b)];
  const [wa = '0', fa = '0'] = sa.split('.');
  const [wb = '0', fb = '0'] = na.split('.');
  return Number(wa) - Number(wb) || fa.padEnd(9, '0').localeCompare(fb.padEnd(9, '0'));
}
