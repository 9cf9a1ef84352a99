import { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { HttpError, invalidInput, parseInput } from '../http/http-error';
import type { LiveStreams } from '../live/live-streams';
import type { AppLogger } from '../logger';
import { CONTAINER_REF } from './compose-labels';
import { ContainerNotFoundError, DockerUnavailableError } from './container-errors';
import type { ContainerAction, ContainerService, DockerStatus } from './container-service';
import type { ContainerStats } from './container-stats';
import type { LogLine } from '@mupets/cargo';
import { SSE_KEEP_ALIVE, sseEvent, startEventStream } from '../http/sse';

export interface ContainersRouterDeps {
  /** Null when Docker is not configured: every route answers 503 `docker_unavailable`. */
  docker: ContainerService | null;
  /** Records an action on the `audit` channel; rejects when it could not. */
  publishAudit: (action: string, target: string, extra?: Record<string, unknown>) => Promise<unknown>;
  logger: AppLogger;
  /** A followed container that stops is re-attached if it runs again within this window. Default 10 000 ms. */
  reattachWindowMs?: number;
  /** A comment line this often keeps proxies from closing a quiet log stream. Default 15 000 ms. */
  heartbeatMs?: number;
  /** The app's open SSE streams: shutdown ends log follows too (else the HTTP server never closes). */
  streams?: LiveStreams;
}

/** What `GET /api/containers` answers. */
export type ContainerList = Awaited<ReturnType<ContainerService['list']>>;

/** What `GET /api/containers/:id/logs` answers (without `follow`): the last lines, oldest first. */
export interface ContainerLogs {
  readonly lines: readonly LogLine[];
}

/** What a start, stop or restart answers (202). */
export interface ContainerActionResult {
  readonly id: string;
  readonly name: string;
  readonly action: ContainerAction;
  /** False when the container already was in the state asked for. */
  readonly changed: boolean;
  readonly state: string;
  readonly startedAt: string | null;
  /** `outcome_not_recorded`: the action ran, but its outcome's audit event could not be stored. */
  readonly audit: 'recorded' | 'outcome_not_recorded';
}

/** The SSE `end` event of a log follow: why it ended. */
export interface LogFollowEnd {
  readonly reason: string;
}

const ACTIONS: readonly ContainerAction[] = ['start', 'stop', 'restart'];
const TIMESTAMP = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?Z$/;

const paramsSchema = z.object({
  id: z.string().regex(CONTAINER_REF, 'a container id (12-64 hex digits) or name'),
});
const logsQuerySchema = z.object({
  tail: z.coerce.number().int().min(0).max(5000).default(200),
  follow: z.enum(['0', '1', 'true', 'false']).optional(),
});
const lastEventIdSchema = z.string().regex(TIMESTAMP, 'a log line timestamp').optional();
const actionBodySchema = z.strictObject({
  confirm: z.string().min(1).max(256),
});

/** The header's Docker status: `{ ok, project, error? }`, never throws. */
export async function dockerStatus(docker: ContainerService | null): Promise<DockerStatus> {
  if (!docker) {
    return { ok: false, project: null, error: 'docker is not configured' };
  }
  return docker.status();
}

/**
 * `/api/containers`: the compose project's containers (list, stats, logs, start/stop/restart).
 * The app mounts it behind the session and CSRF checks. See docs/admin-api.md.
 *
 * A container action is audited BEFORE it runs: when the audit event cannot be stored, the action
 * is refused (503 `broker_unavailable`) - the admin holds root on its host through the Docker
 * socket, and nothing it does there may go unrecorded. Its outcome is published after it
 * (best effort: that failing is logged and said in the answer, the action is not undone).
 */
export function createContainersRouter(deps: ContainersRouterDeps): Router {
  const { publishAudit, logger } = deps;
  const reattachWindowMs = deps.reattachWindowMs ?? 10_000;
  const heartbeatMs = deps.heartbeatMs ?? 15_000;
  const router = Router();

  const docker = (): ContainerService => {
    if (!deps.docker) {
      throw new HttpError(503, 'docker_unavailable', 'docker is not configured');
    }
    return deps.docker;
  };
  const idOf = (request: Request): string => parseInput(paramsSchema, request.params, 'params').id;

  router.get('/', async (_request, response) => {
    response.json((await docker().list()) satisfies ContainerList);
  });

  router.get('/:id/stats', async (request, response) => {
    const id = idOf(request);
    response.json((await docker().stats(id)) satisfies ContainerStats);
  });

  router.get('/:id/logs', async (request, response) => {
    const id = idOf(request);
    const query = parseInput(logsQuerySchema, request.query, 'query');
    const service = docker();
    if (query.follow === '1' || query.follow === 'true') {
      const since = parseInput(lastEventIdSchema, request.get('last-event-id'), 'Last-Event-ID');
      await followLogs(request, response, service, id, query.tail, since);
      return;
    }
    response.json({ lines: await service.logs(id, { tail: query.tail }) } satisfies ContainerLogs);
  });

  for (const action of ACTIONS) {
    router.post(`/:id/${action}`, async (request, response) => {
      const id = idOf(request);
      const { confirm } = parseInput(actionBodySchema, request.body ?? {}, 'body');
      const service = docker();
      const container = await service.get(id);
      if (confirm !== container.name) {
        throw invalidInput([
          { field: 'confirm', rule: 'match', message: `type the container's name (${container.name}) to confirm` },
        ]);
      }
      const auditAction = `container.${action}`;
      const extra = { id: container.id, project: container.project, service: container.service };
      try {
        await publishAudit(auditAction, container.name, { ...extra, outcome: 'requested' });
      } catch (error) {
        throw new HttpError(
          503,
          'broker_unavailable',
          `the container was not ${action === 'stop' ? 'stopped' : `${action}ed`}: its audit event could not be recorded`,
          { cause: error },
        );
      }
      let result: Awaited<ReturnType<ContainerService['act']>>;
      try {
        result = await service.act(container.id, action);
      } catch (error) {
        await publishAudit(auditAction, container.name, {
          ...extra,
          outcome: 'failed',
          error: error instanceof Error ? error.message : String(error),
        }).catch((auditError: unknown) => logger.warn('audit outcome not recorded', { error: auditError }));
        throw error;
      }
      let outcomeRecorded = true;
      try {
        await publishAudit(auditAction, container.name, {
          ...extra,
          outcome: 'succeeded',
          changed: result.changed,
        });
      } catch (error) {
        outcomeRecorded = false;
        logger.warn('audit outcome not recorded', { action: auditAction, container: container.id, error });
      }
      logger.info('container action done', { action, container: container.id, changed: result.changed });
      response.status(202).json({
        id: result.container.id,
        name: result.container.name,
        action,
        changed: result.changed,
        state: result.container.state,
        startedAt: result.container.startedAt,
        audit: outcomeRecorded ? 'recorded' : 'outcome_not_recorded',
      } satisfies ContainerActionResult);
    });
  }

  /**
   * SSE `event: line` per log line (`id:` its timestamp, so a reconnecting EventSource resumes
   * after it). When the container stops, the follow re-attaches if it runs again within the
   * window (a restart), else the stream ends with `event: end`.
   */
  async function followLogs(
    request: Request,
    response: Response,
    service: ContainerService,
    id: string,
    tail: number,
    since: string | undefined,
  ): Promise<void> {
    // errors before the first byte (404, 503) still get their JSON answer
    let current = await service.followLogs(id, since ? { since } : { tail });
    let lastTs = since ?? new Date().toISOString();
    let closed = false;
    startEventStream(response);
    const heartbeat = setInterval(() => response.write(SSE_KEEP_ALIVE), heartbeatMs);
    const open = {
      close: (): Promise<void> => {
        finish('shutdown');
        return Promise.resolve();
      },
    };
    const finish = (reason: string): void => {
      if (closed) {
        return;
      }
      closed = true;
      clearInterval(heartbeat);
      deps.streams?.delete(open);
      current.destroy();
      response.end(sseEvent('end', { reason } satisfies LogFollowEnd));
    };
    request.on('close', () => {
      closed = true;
      clearInterval(heartbeat);
      deps.streams?.delete(open);
      current.destroy();
    });
    if (deps.streams && !deps.streams.add(open)) {
      finish('shutdown');
      return;
    }

    const attach = (lines: typeof current): void => {
      current = lines;
      lines.on('data', (line: LogLine) => {
        if (closed) {
          return;
        }
        if (line.ts) {
          lastTs = line.ts;
        }
        const ok = response.write(sseEvent('line', line satisfies LogLine, line.ts));
        if (!ok) {
          lines.pause();
          response.once('drain', () => lines.resume());
        }
      });
      let ended = false;
      const onEnd = (): void => {
        if (ended) {
          return;
        }
        ended = true;
        reattach().catch((error: unknown) => {
          logger.warn('log follow not re-attached', { container: id, error });
          finish('error');
        });
      };
      lines.once('end', onEnd);
      lines.once('error', onEnd);
    };

    const reattach = async (): Promise<void> => {
      const deadline = performance.now() + reattachWindowMs;
      while (!closed) {
        let running = false;
        try {
          running = (await service.get(id)).state === 'running';
        } catch (error) {
          if (error instanceof ContainerNotFoundError) {
            finish('removed');
            return;
          }
          if (!(error instanceof DockerUnavailableError)) {
            throw error;
          }
        }
        if (running && !closed) {
          attach(await service.followLogs(id, { since: lastTs }));
          return;
        }
        if (performance.now() >= deadline) {
          finish('stopped');
          return;
        }
        await new Promise((resolve) => setTimeout(resolve, 250));
      }
    };

    attach(current);
  }

  return router;
}
