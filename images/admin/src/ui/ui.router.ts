// Serves the web UI: the built assets, index.html for every page route (the SPA routes in the
// browser), and in dev an esbuild watch inside this process with a live-reload event stream.
import { existsSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import express, { type Request, type Response, type Router } from 'express';
import type { AppLogger } from '../logger';
import { sseEvent, startEventStream } from '../http/sse';

/** The page routes of the UI; each answers with index.html. `/login` is the only public one. */
export const UI_PAGES = ['/', '/live', '/archive', '/submit', '/containers', '/broker', '/login'] as const;

/** Where the dev build's "rebuilt" events are streamed (only in watch mode). */
export const LIVE_RELOAD_PATH = '/__dev/reload';

export interface UiRouterOptions {
  /** The built UI: `index.html` and `assets/` (web/dist). Watch mode builds into it. */
  dir: string;
  /** Dev: build the sources in this process on every change, and tell open pages to reload. */
  watch: boolean;
  logger: AppLogger;
  /** The web sources' build script (watch mode only). Default: `web/build.mjs` of this package. */
  buildScript?: string;
  /** The web sources watched (watch mode only). Default: `web/src` of this package. */
  sourceDir?: string;
}

/** The router, plus `close()` that stops the dev watcher (a no-op otherwise). */
export type UiRouter = Router & { close(): Promise<void> };

interface WebBuild {
  buildOptions(options: {
    outdir: string;
    sourceDir?: string;
    dev: boolean;
    onBuilt: (errors: number) => void;
  }): unknown;
}

interface EsbuildContext {
  watch(): Promise<void>;
  dispose(): Promise<void>;
}

/**
 * Serves the admin web UI. Hashed assets (`/assets/main-<hash>.js`) are cached for a year,
 * index.html never (so a new build is picked up at once). The caller puts the session check in
 * front of the page routes (all but `/login`); the assets are public, the login page needs them.
 */
export function createUiRouter(options: UiRouterOptions): UiRouter {
  const dir = resolve(options.dir);
  const indexFile = join(dir, 'index.html');
  const router = express.Router() as UiRouter;
  const reloadClients = new Set<Response>();
  let context: EsbuildContext | undefined;
  let closed = false;

  router.use(
    '/assets',
    express.static(join(dir, 'assets'), {
      immutable: true,
      maxAge: '365d',
      index: false,
    }),
  );
  // a missing asset is a plain 404, not the page (a stale index.html asks for an old hash)
  router.use('/assets', (_request, response) => {
    response.status(404).type('text/plain').send('not found');
  });

  const sendIndex = (_request: Request, response: Response): void => {
    if (!existsSync(indexFile)) {
      response
        .status(503)
        .type('text/plain')
        .send(
          options.watch ? 'The web UI is being built; reload in a moment.' : 'The web UI is not built (npm run build).',
        );
      return;
    }
    response.setHeader('cache-control', 'no-cache');
    response.sendFile(indexFile);
  };
  for (const page of UI_PAGES) {
    router.get(page, sendIndex);
  }

  if (options.watch) {
    router.get(LIVE_RELOAD_PATH, (request, response) => {
      startEventStream(response);
      response.write(': dev live reload\n\n');
      reloadClients.add(response);
      options.logger.debug('web ui reload client connected', { clients: reloadClients.size });
      request.on('close', () => reloadClients.delete(response));
    });
    void startWatch().catch((error: unknown) => {
      options.logger.error('web ui watch failed', { error });
    });
  }

  async function startWatch(): Promise<void> {
    const script = options.buildScript ?? resolve(__dirname, '../../web/build.mjs');
    // build.mjs is an ES module shared with `npm run build`: one set of build options for both
    const [web, esbuild] = (await Promise.all([import(pathToFileURL(script).href), import('esbuild')])) as [
      WebBuild,
      { context(options: unknown): Promise<EsbuildContext> },
    ];
    let first = true;
    const created = await esbuild.context(
      web.buildOptions({
        outdir: dir,
        ...(options.sourceDir ? { sourceDir: resolve(options.sourceDir) } : {}),
        dev: true,
        onBuilt: (errors) => {
          if (errors > 0) {
            options.logger.warn('web ui build failed', { errors });
            return;
          }
          options.logger.info('web ui built', { dir, first });
          if (!first) {
            for (const client of reloadClients) {
              client.write(sseEvent('reload', {}));
            }
          }
          first = false;
        },
      }),
    );
    if (closed) {
      await created.dispose();
      return;
    }
    context = created;
    await created.watch();
  }

  router.close = async (): Promise<void> => {
    closed = true;
    for (const client of reloadClients) {
      client.end();
    }
    reloadClients.clear();
    await context?.dispose();
    context = undefined;
  };
  return router;
}
