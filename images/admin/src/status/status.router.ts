import type { Archive } from '@mupets/archive';
import type { Broker } from '@mupets/broker';
import express, { type Router } from 'express';
import type { DockerStatus } from '../containers/container-service';

/** One dependency's check: `{ ok }`, or `{ ok: false, error }` saying why. */
export interface CheckOutcome {
  readonly ok: boolean;
  readonly error?: string;
}

/** What `GET /api/status` answers. */
export interface StatusResponse {
  readonly broker: CheckOutcome & { readonly backend: 'redis' | 'kafka' };
  readonly archive: CheckOutcome;
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
      checkOutcome(() => options.broker.ready(timeoutMs), timeoutMs),
      checkOutcome(() => options.archive.ping(), timeoutMs),
      options.dockerStatus
        ? withTimeout(options.dockerStatus(), timeoutMs).catch((error: unknown): DockerStatus => ({
            ok: false,
            project: null,
            error: messageOf(error),
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

/** Runs one dependency check under a timeout: `{ ok }`, or `{ ok: false, error }` saying why. */
export async function checkOutcome(check: () => Promise<void>, timeoutMs: number): Promise<CheckOutcome> {
  try {
    await withTimeout(check(), timeoutMs);
    return { ok: true };
  } catch (error) {
    return { ok: false, error: messageOf(error) };
  }
}

async function reachable(url: string, timeoutMs: number): Promise<boolean> {
  try {
    const answer = await fetch(url, { method: 'HEAD', redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
    return answer.status < 500;
  } catch {
    return false;
  }
}

/** `promise`, or a rejection after `ms`. */
export function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    promise,
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`no answer within ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

function messageOf(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
