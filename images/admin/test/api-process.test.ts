import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort, orientDbServerConfig, redisUrl, spawnTs, testDatabase, testPrefix, waitFor } from '@mupets/testkit';
import { openSse } from './sse-client';

const MAIN = resolve(__dirname, '../src/main.ts');

/** main.ts as a real process: start-up, the first-run password, and a clean SIGTERM with a stream open. */
test('first run: a generated password in ADMIN_DATA_DIR (only its path logged); SIGTERM ends open streams and exits 0', async () => {
  const dataDir = mkdtempSync(join(tmpdir(), 'admin-process-'));
  const port = await freePort();
  const orient = orientDbServerConfig();
  const proc = spawnTs(MAIN, {
    REDIS_URL: redisUrl(),
    BROKER_KEY_PREFIX: testPrefix(__filename),
    ORIENTDB_HOST: orient.host,
    ORIENTDB_PORT: String(orient.port),
    ORIENTDB_USER: orient.username,
    ORIENTDB_PASSWORD: orient.password,
    ORIENTDB_DATABASE: testDatabase(__filename),
    ADMIN_PORT: String(port),
    ADMIN_HOST: '127.0.0.1',
    ADMIN_DATA_DIR: dataDir,
    ADMIN_UI_DIR: dataDir,
    ADMIN_COMPOSE_PROJECT: 'admin-process-test',
    DOCKER_SOCKET: join(dataDir, 'no-docker.sock'),
    SHUTDOWN_DEADLINE_MS: '10000',
  });
  let output = '';
  proc.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
  proc.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const exited = new Promise<number | null>((done) => proc.once('exit', (code) => done(code)));
  const base = `http://127.0.0.1:${port}`;
  try {
    await waitFor(
      async () => {
        if (proc.exitCode !== null) {
          throw new Error(`admin exited at start: ${output}`);
        }
        return (await fetch(`${base}/healthz`).catch(() => undefined))?.status === 200;
      },
      { timeoutMs: 60_000, what: 'the admin listening', failFast: true },
    );
    const file = join(dataDir, 'initial-password');
    const password = readFileSync(file, 'utf8').trim();
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(output).toContain(file);
    expect(output).not.toContain(password);

    const login = await fetch(`${base}/api/login`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ password }),
    });
    expect(login.status).toBe(204);
    const cookie = login.headers.get('set-cookie')!.split(';')[0]!;
    const sse = await openSse(`${base}/api/live`, cookie);
    expect(sse.status).toBe(200);
    await waitFor(() => sse.events.some((e) => e.event === 'ready'), { what: 'the stream open' });

    proc.kill('SIGTERM');
    await sse.ended;
    expect(await exited).toBe(0);
    expect(output).not.toContain(password);
  } finally {
    if (proc.exitCode === null) {
      proc.kill('SIGKILL');
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
});
