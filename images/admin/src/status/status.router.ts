import type { Archive } from '@mupets/archive';
import type { Broker } from '@mupets/broker';
import { runCheck, withTimeout, type CheckResult } from '@mupets/cargo';
import express, { type Router } from 'express';
import type { DockerStatus } from '../containers/container-service';

/** What `GET /api/status` answers. */
export interface StatusResponse {
  readonly broker: CheckResult & { readonly backend: 'redis' | 'kafka' };
  readonly archive: CheckResult;
  readonly docker: DockerStatus;
  /** `url` is null when no Studio link is configured. */
  readonly studio: { readonly url: string | null; readonly reachable: boolean };
}

export interface StatusOptions {
  broker: Pick<Broker, 'ready'>;
  archive: Pick<Archive, 'ping'>;
  backend: 'redis' | 'kafka';
  /** Docker's state; absent when the admin runs without Docker. */
  dockerStatus?: (() => Promise<DockerStatus>) | undefined;
  /** The Studio link the browser follows. */
  studioUrl?: string | undefined;
  /** Where the admin checks that Studio answers. Default: `studioUrl`. */
  studioCheckUrl?: string | undefined;
  /** How long each check may take. Default 1500 ms. */
  timeoutMs?: number;
}

/** `GET /api/status`: each dependency checked in parallel, each under a timeout. */
export function createStatusRouter(options: StatusOptions): Router {
  const timeoutMs = options.timeoutMs ?? 1500;
  const router = express.Router();
  router.get('/', async (_request, response) => {
    const [broker, archive, docker, studioReachable] = await Promise.all([
      runCheck(() => options.broker.ready(timeoutMs), timeoutMs),
      runCheck(() => options.archive.ping(), timeoutMs),
      options.dockerStatus
        ? withTimeout(options.dockerStatus, timeoutMs).catch((error: unknown): DockerStatus => ({
            ok: false,
            project: null,
            error: error instanceof Error ? error.message : String(error),
          }))
        : Promise.resolve<DockerStatus>({ ok: false, project: null, error: 'docker is not configured' }),
      options.studioUrl ? reachable(options.studioCheckUrl ?? options.studioUrl, timeoutMs) : Promise.resolve(false),
    ]);
    response.json({
      broker: { ...broker, backend: options.backend },
      archive,
      docker,
      studio: { url: options.studioUrl ?? null, reachable: studioReachable },
    } satisfies StatusResponse);
  });
  return router;
}

async function reachable(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const answer = await fetch(url, { method: 'HEAD', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    return answer.status < 500;
  } catch {
    return false;
  }
}
