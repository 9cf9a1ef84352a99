import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Express } from 'express';
import supertest from 'supertest';
import { createContainersRouter } from '../src/containers/containers.router';
import { createUiRouter, type UiRouter } from '../src/ui';
import { errorOf, startTestAdmin, type LoggedIn, type TestAdmin } from './helpers';

/** A route of the real app: every method of one path, as registered. */
interface RouteInfo {
  readonly method: string;
  readonly path: string;
}

interface LayerLike {
  route?: { path: unknown; methods?: Record<string, boolean>; stack?: unknown };
  handle?: { stack?: unknown };
  rawPath?: unknown;
}

/**
 * Every route of the app, found by walking the router stacks (express 5 / router 2): a layer with
 * a `route` is an endpoint, a layer whose handle has a `stack` is a mounted router (recursed into,
 * its mount path prefixed). Nothing here lists routes by hand: a route added anywhere is found.
 */
function listRoutes(stack: readonly LayerLike[], prefix = ''): RouteInfo[] {
  const out: RouteInfo[] = [];
  for (const layer of stack) {
    const paths = ([] as unknown[]).concat(layer.route ? layer.route.path : (layer.rawPath ?? '/'));
    for (const raw of paths) {
      if (typeof raw !== 'string') {
        throw new Error(`a route with a non-string path (${String(raw)}): the guard test cannot probe it`);
      }
      const joined = `${prefix}${raw === '/' ? '' : raw}`;
      const path = joined || '/';
      if (layer.route) {
        for (const method of Object.keys(layer.route.methods ?? {})) {
          out.push({ method: method.toUpperCase(), path });
        }
      } else if (Array.isArray(layer.handle?.stack)) {
        out.push(...listRoutes(layer.handle.stack as LayerLike[], joined));
      }
    }
  }
  return out;
}

/** A concrete URL for a route pattern: parameters filled with a well-formed sample. */
function sampleUrl(path: string): string {
  return path
    .replace(/[{}]/g, '')
    .replace(/:id\b/g, '1700000000000-0')
    .replace(/:channel\b/g, 'logs')
    .replace(/[:*][A-Za-z_]\w*/g, 'sample');
}

/** The routes anyone may call. Adding to this list is a security decision. */
const PUBLIC = new Set(['GET /healthz', 'GET /readyz', 'POST /api/login', 'GET /login']);
const MUTATING = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

let admin: TestAdmin;
let app: Express;
let routes: RouteInfo[];
let client: LoggedIn;
let ui: UiRouter;
let uiDir: string;

beforeAll(async () => {
  uiDir = mkdtempSync(join(tmpdir(), 'admin-ui-'));
  writeFileSync(join(uiDir, 'index.html'), '<!doctype html><title>admin</title>');
  mkdirSync(join(uiDir, 'assets'));
  writeFileSync(join(uiDir, 'assets', 'main-abc123.js'), 'console.log("ui")');
  ui = createUiRouter({ dir: uiDir, watch: false, logger: silent });
  admin = await startTestAdmin({
    file: __filename,
    ui,
    containers: createContainersRouter({ docker: null, publishAudit: () => Promise.resolve('0-0'), logger: silent }),
  });
  app = admin.app;
  routes = listRoutes((app.router as unknown as { stack: LayerLike[] }).stack);
  client = await admin.login();
});

afterAll(async () => {
  await ui.close();
  await admin.close();
  rmSync(uiDir, { recursive: true, force: true });
});

const silent = { info: () => undefined, warn: () => undefined, error: () => undefined, debug: () => undefined };

function call(agent: supertest.Agent | ReturnType<typeof supertest>, route: RouteInfo) {
  const method = route.method.toLowerCase() as 'get' | 'post' | 'put' | 'patch' | 'delete' | 'head';
  return agent[method](sampleUrl(route.path));
}

test('the walk finds the routes of every router (API, containers, UI)', () => {
  const names = routes.map((r) => `${r.method} ${r.path}`);
  expect(names).toEqual(
    expect.arrayContaining([
      'GET /healthz',
      'POST /api/login',
      'GET /api/session',
      'POST /api/logout',
      'GET /api/live',
      'GET /api/archive/search',
      'GET /api/archive/records/:channel/:id',
      'POST /api/events',
      'GET /api/broker',
      'POST /api/broker/:channel/dead-letters/:id/replay',
      'DELETE /api/broker/:channel/groups/:group',
      'GET /api/containers',
      'POST /api/containers/:id/restart',
      'GET /api/tokens',
      'POST /api/tokens',
      'DELETE /api/tokens/:id',
      'GET /',
      'GET /login',
    ]),
  );
  expect(routes.length).toBeGreaterThan(20);
});

test('without a session every route but the public ones answers 401 (API) or sends the browser to /login (pages)', async () => {
  const unguarded: string[] = [];
  for (const route of routes) {
    const name = `${route.method} ${route.path}`;
    if (PUBLIC.has(name)) {
      continue;
    }
    const answer = await call(supertest(app), route).redirects(0);
    const guarded = route.path.startsWith('/api/')
      ? answer.status === 401 && errorOf(answer).code === 'unauthenticated'
      : answer.status === 401 || (answer.status === 303 && answer.headers.location === '/login');
    if (!guarded) {
      unguarded.push(`${name} -> ${answer.status}`);
    }
  }
  expect(unguarded).toEqual([]);
});

test('the public routes answer without a session', async () => {
  for (const name of PUBLIC) {
    const [method, path] = name.split(' ') as [string, string];
    const answer = await call(supertest(app), { method, path }).send(method === 'POST' ? { password: 'x' } : undefined);
    // login with a wrong password is still a login attempt (401 wrong password), not "log in first"
    expect([name, answer.status === 401 ? errorOf(answer).message : 'answered']).toEqual([
      name,
      name === 'POST /api/login' ? 'wrong password' : 'answered',
    ]);
  }
});

test('the static assets the login page loads are public; a page is not', async () => {
  const asset = await supertest(app).get('/assets/main-abc123.js');
  expect(asset.status).toBe(200);
  expect(asset.text).toBe('console.log("ui")');
  const page = await supertest(app).get('/archive').redirects(0);
  expect([page.status, page.headers.location]).toEqual([303, '/login']);
  const withSession = await client.agent.get('/archive');
  expect(withSession.status).toBe(200);
  expect(withSession.text).toContain('<title>admin</title>');
});

test('with a session, every mutating route without (or with a wrong) CSRF token answers 403 csrf', async () => {
  const mutating = routes.filter((r) => MUTATING.has(r.method) && `${r.method} ${r.path}` !== 'POST /api/login');
  expect(mutating.length).toBeGreaterThanOrEqual(3);
  const unprotected: string[] = [];
  for (const route of mutating) {
    for (const token of [undefined, 'wrong-token', `${client.csrfToken}x`]) {
      const request = call(client.agent, route);
      const answer = await (token === undefined ? request : request.set('x-csrf-token', token)).send({});
      if (answer.status !== 403 || errorOf(answer).code !== 'csrf') {
        unprotected.push(`${route.method} ${route.path} token=${token} -> ${answer.status}`);
      }
    }
  }
  expect(unprotected).toEqual([]);
});

test('unknown paths: 401 under /api without a session, 404 not_found with one', async () => {
  expect((await supertest(app).get('/api/no-such-route')).status).toBe(401);
  expect((await supertest(app).post('/api/no-such-route')).status).toBe(401);
  const answer = await client.agent.get('/api/no-such-route');
  expect(answer.status).toBe(404);
  expect(errorOf(answer).code).toBe('not_found');
});

test('the security headers: a CSP without inline script, no framing, no sniffing', async () => {
  const answer = await supertest(app).get('/login');
  const csp = String(answer.headers['content-security-policy']);
  expect(csp).toContain("script-src 'self'");
  expect(csp).not.toContain('unsafe-inline');
  expect(csp).toContain("frame-ancestors 'none'");
  expect(answer.headers['x-content-type-options']).toBe('nosniff');
  expect(answer.headers['x-powered-by']).toBeUndefined();
});
