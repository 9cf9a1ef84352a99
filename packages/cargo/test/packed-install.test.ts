// @mupets/broker and @mupets/cargo as another repository gets them: `npm pack` tarballs installed into a
// scratch project outside the workspace (registry dependencies from the npm cache or registry), then
// used from plain Node (require and import) against the test run's real Redis, and type-checked.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createRedisBroker, type Broker } from '@mupets/broker';
import { redisUrl, testPrefix } from '@mupets/testkit';

const repo = resolve(__dirname, '../../..');
const prefix = testPrefix(__filename);
const scratch = mkdtempSync(join(tmpdir(), 'mupets-packed-'));
const project = join(scratch, 'outside');
let broker: Broker;

function run(command: string, args: readonly string[], cwd: string, env = process.env): SpawnSyncReturns<string> {
  const result = spawnSync(command, args, { cwd, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

interface PackResult {
  filename: string;
  name: string;
  files: Array<{ path: string }>;
}
let packed: PackResult[];

beforeAll(async () => {
  // prepack builds dist/ first, from a clean directory
  const pack = run(
    'npm',
    ['pack', '--json', '--workspace=packages/broker', '--workspace=packages/cargo', `--pack-destination=${scratch}`],
    repo,
  );
  packed = JSON.parse(pack.stdout.slice(pack.stdout.indexOf('['))) as PackResult[];
  run('mkdir', ['-p', project], scratch);
  writeFileSync(join(project, 'package.json'), JSON.stringify({ name: 'outside', version: '1.0.0', private: true }));
  run(
    'npm',
    ['install', '--no-audit', '--no-fund', '--prefer-offline', ...packed.map((p) => join(scratch, p.filename))],
    project,
  );
  broker = createRedisBroker({ url: redisUrl(), keyPrefix: prefix });
  await broker.ready(5000);
}, 300_000);

afterAll(async () => {
  await broker?.close();
  rmSync(scratch, { recursive: true, force: true });
});

test('each tarball holds the compiled library with its types, and no tests or sources', () => {
  expect(packed.map((p) => p.name).sort()).toEqual(['@mupets/broker', '@mupets/cargo']);
  for (const { name, files } of packed) {
    const paths = files.map((file) => file.path);
    expect(paths).toEqual(expect.arrayContaining(['package.json', 'README.md', 'dist/index.js', 'dist/index.d.ts']));
    const unwanted = paths.filter(
      (path) =>
        !['package.json', 'README.md', 'healthcheck.js'].includes(path) &&
        !/^dist\/(?:[a-z0-9-]+\/)?[a-z0-9.-]+\.(js|d\.ts)$/.test(path),
    );
    expect({ name, unwanted }).toEqual({ name, unwanted: [] });
    expect(paths.filter((path) => path.includes('.test.'))).toEqual([]);
  }
});

test('require() and import both reach the packages through their exports maps; publish and consume on a real Redis', () => {
  const script = (load: string): string => `${load}
const channel = 'packed';
const broker = createBroker({ REDIS_URL: process.env.REDIS_URL }, { prefix: process.env.PREFIX });
const logger = createLogger({ service: 'outside', format: 'json' });
attachBroker(logger, broker);
const config = loadConfig(z.object({ OUTSIDE_TOKEN: z.string().min(4) }));
const run = async () => {
  const id = await broker.publish(channel, { type: 'outside.hello', source: { service: 'outside' }, data: { via: process.env.VIA } });
  const seen = await new Promise((done) => {
    const consumer = broker.consume(channel, 'outside-' + process.env.VIA, (batch) => {
      const mine = batch.find((d) => d.id === id);
      if (mine) { void consumer.stop().then(() => done(mine.envelope)); }
    }, { blockMs: 100 });
  });
  logger.info('outside says hello', { via: process.env.VIA, tokenLength: config.OUTSIDE_TOKEN.length });
  await flushLogs(logger, 5000);
  await broker.close();
  process.stdout.write(JSON.stringify({ id, seen }) + '\\n');
};
run().catch((error) => { process.stderr.write(String(error && error.stack) + '\\n'); process.exit(1); });
`;
  writeFileSync(
    join(project, 'run.cjs'),
    script(`const { createBroker } = require('@mupets/broker');
const { attachBroker, createLogger, flushLogs, loadConfig } = require('@mupets/cargo');
const { z } = require('zod');`),
  );
  writeFileSync(
    join(project, 'run.mjs'),
    script(`import { createBroker } from '@mupets/broker';
import { attachBroker, createLogger, flushLogs, loadConfig } from '@mupets/cargo';
import { z } from 'zod';`),
  );
  for (const file of ['run.cjs', 'run.mjs']) {
    const env = { PATH: process.env.PATH, REDIS_URL: redisUrl(), PREFIX: prefix, VIA: file, OUTSIDE_TOKEN: 'abcdef' };
    const out = run(process.execPath, [file], project, env).stdout;
    const result = JSON.parse(out.trim().split('\n').pop()!) as { id: string; seen: { type: string; data: unknown } };
    expect(result.seen).toMatchObject({ type: 'outside.hello', data: { via: file } });
  }
});

test('what the outside project published is in Redis, read back by the workspace broker', async () => {
  const stored = await broker.range('packed', { count: 100 });
  expect(stored.map((entry) => entry.envelope.data)).toEqual([{ via: 'run.cjs' }, { via: 'run.mjs' }]);
  const logs = await broker.range('logs', { count: 100 });
  expect(logs.filter((entry) => entry.envelope.message === 'outside says hello').map((e) => e.envelope.source)).toEqual(
    [expect.objectContaining({ service: 'outside' }), expect.objectContaining({ service: 'outside' })],
  );
});

test('its types resolve from node_modules for a TypeScript project (module nodenext)', () => {
  writeFileSync(
    join(project, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: { module: 'nodenext', strict: true, noEmit: true, skipLibCheck: true, types: [] },
      files: ['check.ts'],
    }),
  );
  writeFileSync(
    join(project, 'check.ts'),
    `import { createBroker, type Broker, type Delivery } from '@mupets/broker';
import { createLifecycle, createLogger, type Lifecycle } from '@mupets/cargo';
const broker: Broker = createBroker({ REDIS_URL: 'redis://127.0.0.1:1' });
const lifecycle: Lifecycle = createLifecycle({ logger: createLogger({ service: 'typed' }) });
const handler = (batch: readonly Delivery[]): number => batch.length;
// @ts-expect-error publish needs a type and a source
void broker.publish('typed', { data: {} });
export { handler, lifecycle };
`,
  );
  run(process.execPath, [join(repo, 'node_modules/typescript/bin/tsc'), '-p', 'tsconfig.json'], project);
});
