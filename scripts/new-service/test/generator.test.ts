// The generator in a scratch copy of the repository (its files as git sees them, node_modules linked):
// it refuses what it must without changing anything, and what it creates passes lint, typecheck,
// prettier and its own tests there, with `git status` showing only the new service.
import { spawnSync, type SpawnSyncReturns } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { generateService, GeneratorRefusal, type GenerateOptions } from '../src/generate';

const repo = resolve(__dirname, '../../..');
let scratch: string;

function run(command: string, args: readonly string[], env: NodeJS.ProcessEnv = process.env): SpawnSyncReturns<string> {
  return spawnSync(command, args, { cwd: scratch, env, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
}

function git(...args: string[]): string {
  const result = run('git', ['-c', 'user.name=test', '-c', 'user.email=test@example.invalid', ...args]);
  if (result.status !== 0) {
    throw new Error(`git ${args.join(' ')}: ${result.stderr}`);
  }
  return result.stdout;
}

/** Runs a check in the scratch copy; fails the test with its output when it fails. */
function mustPass(command: string, args: readonly string[], env?: NodeJS.ProcessEnv): SpawnSyncReturns<string> {
  const result = run(command, args, env);
  if (result.status !== 0) {
    throw new Error(`${command} ${args.join(' ')} exited ${result.status}:\n${result.stdout}\n${result.stderr}`);
  }
  return result;
}

beforeAll(() => {
  scratch = mkdtempSync(join(tmpdir(), 'mupets-new-service-'));
  // the files of the working tree that git tracks or would track (not ignored), as a clone has them
  const listed = spawnSync('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], {
    cwd: repo,
    encoding: 'utf8',
  });
  for (const file of listed.stdout.split('\0').filter(Boolean)) {
    let content: Buffer;
    try {
      content = readFileSync(join(repo, file));
    } catch {
      continue; // deleted in the working tree, not yet committed
    }
    mkdirSync(dirname(join(scratch, file)), { recursive: true });
    writeFileSync(join(scratch, file), content);
  }
  symlinkSync(join(repo, 'node_modules'), join(scratch, 'node_modules'), 'dir');
  git('init', '-q');
  git('add', '-A');
  git('commit', '-qm', 'scratch');
});

afterAll(() => {
  rmSync(scratch, { recursive: true, force: true });
});

describe('refusals: a clear message, and nothing changed', () => {
  async function refusal(options: Partial<GenerateOptions> & { name: string }): Promise<string> {
    let message = '';
    await generateService({ root: scratch, http: true, consume: 'events', ...options }).then(
      () => {
        throw new Error(`the generator accepted ${JSON.stringify(options)}`);
      },
      (error: unknown) => {
        // name and message together, so a failure shows what was thrown instead
        expect(`${(error as Error).name}: ${(error as Error).message}`).toMatch(/^GeneratorRefusal: /);
        expect(error).toBeInstanceOf(GeneratorRefusal);
        message = (error as Error).message;
      },
    );
    expect(git('status', '--porcelain')).toBe('');
    return message;
  }

  test.each([
    ['Bad_Name', /not a valid service name: lower-case letters, digits/],
    ['9lives', /not a valid service name/],
    ['trailing-', /not a valid service name/],
    ['admin', /reserved/],
    ['broker', /reserved/],
    ['a'.repeat(41), /at most 40 characters/],
  ])('name %s', async (name, expected) => {
    expect(await refusal({ name })).toMatch(expected);
  });

  test('an existing images/<name>', async () => {
    mkdirSync(join(scratch, 'images/taken'));
    writeFileSync(join(scratch, 'images/taken/README.md'), '# taken\n');
    git('add', '-A');
    git('commit', '-qm', 'taken');
    try {
      expect(await refusal({ name: 'taken' })).toMatch(/images\/taken exists already/);
    } finally {
      git('reset', '-q', '--hard', 'HEAD~1');
    }
  });

  test('a bad --consume channel', async () => {
    expect(await refusal({ name: 'fine-name', consume: 'Not A Channel' })).toMatch(/--consume: invalid channel name/);
  });

  test.each([
    ['a second YAML document', (text: string) => `${text}---\nother: 1\n`, /more than one YAML document/],
    ['services in flow style', (text: string) => text.replace(/^services:$/m, 'services: {}\nignored:'), /services/],
    ['a YAML error', (text: string) => text.replace(/^volumes:$/m, 'volumes: [unclosed'), /does not parse/],
    [
      'no logging anchor',
      (text: string) => text.replace(/&logging/, '&renamed').replace(/\*logging/g, '*renamed'),
      /anchor &logging/,
    ],
  ])('a prod compose file with %s', async (_what, change, expected) => {
    const path = join(scratch, 'docker-compose.prod.yml');
    writeFileSync(path, change(readFileSync(path, 'utf8')));
    git('commit', '-qam', 'unsafe compose file');
    try {
      const message = await refusal({ name: 'fine-name' });
      expect(message).toMatch(expected);
      expect(message).toMatch(/docker-compose\.prod\.yml: .*Add the service by hand/s);
    } finally {
      git('reset', '-q', '--hard', 'HEAD~1');
    }
  });

  test('the command line: exit code 1, what to do, nothing changed', () => {
    const result = run('npm', ['run', '-s', 'new:service', '--', 'log-archiver']);
    expect(result.status).toBe(1);
    expect(result.stderr).toMatch(/reserved.*Choose another name\.\nNothing was changed\./s);
    expect(git('status', '--porcelain')).toBe('');
  });
});

describe('three services, one of each kind', () => {
  beforeAll(() => {
    mustPass('npm', ['run', '-s', 'new:service', '--', 'order-mailer']);
    mustPass('npm', ['run', '-s', 'new:service', '--', 'web-hook', '--http']);
    mustPass('npm', ['run', '-s', 'new:service', '--', 'job-runner', '--consume', 'jobs']);
  }, 300_000);

  test('git sees only the new folders, added compose entries and the lockfile entries of the new workspaces', () => {
    const changed = git('status', '--porcelain', '--untracked-files=normal').replace(/\n$/, '').split('\n').sort();
    expect(changed).toEqual([
      ' M deploy/kafka/acls.sh',
      ' M deploy/redis/users.acl',
      ' M docker-compose.dev.yml',
      ' M docker-compose.prod.yml',
      ' M package-lock.json',
      '?? images/job-runner/',
      '?? images/order-mailer/',
      '?? images/web-hook/',
    ]);
    // only added lines: every line of the originals is still there, in place; in users.acl one line
    // (the `service` user's) is extended, checked below
    for (const line of git('diff', '--numstat').trim().split('\n')) {
      expect(line).toMatch(line.endsWith('deploy/redis/users.acl') ? /^1\t1\t/ : /^\d+\t0\t/);
    }
    const prod = readFileSync(join(scratch, 'docker-compose.prod.yml'), 'utf8');
    expect(prod).toContain(
      '  web-hook:\n    image: ${MUPETS_REGISTRY:-localhost/mupets}/web-hook:${MUPETS_TAG:-latest}',
    );
    expect(prod).toContain(
      '  web_hook_api_token:\n    file: ${MUPETS_SECRETS_DIR:-./deploy/secrets}/web_hook_api_token',
    );
    expect(prod).not.toContain('job_runner_api_token');
    // in prod each logs in as Redis's `service` user; the consumer's channel is granted to that user
    expect(prod.match(/REDIS_USERNAME: service\n/g)).toHaveLength(3);
    const serviceUser = (file: string): string =>
      readFileSync(file, 'utf8')
        .split('\n')
        .find((line) => line.startsWith('user service ')) ?? '';
    const before = serviceUser(join(repo, 'deploy/redis/users.acl'));
    const after = serviceUser(join(scratch, 'deploy/redis/users.acl'));
    // a selector per consumed channel: order-mailer's (by default it consumes events) and job-runner's;
    // web-hook publishes to events, which the user may already
    expect(after.startsWith(`${before} (~@P@events ~@P@events.dead ~@P@events:failures:* +xadd `)).toBe(true);
    expect(after).toContain(' (~@P@jobs ~@P@jobs.dead ~@P@jobs:failures:* +xadd ');
    expect(after.split('(').length - before.split('(').length).toBe(2);
    expect(after).toContain('+xreadgroup +xack +xautoclaim');
    // on Kafka, each consumer its own group only
    const acls = readFileSync(join(scratch, 'deploy/kafka/acls.sh'), 'utf8');
    expect(acls).toContain('allow service Read Describe -- --group "${p}jobs/job-runner"\n');
    expect(acls).toContain('allow service Read Describe -- --group "${p}events/order-mailer"\n');
    expect(acls).not.toContain('web-hook');
    const dev = readFileSync(join(scratch, 'docker-compose.dev.yml'), 'utf8');
    expect(dev).toContain('  job-runner-node-modules:');
    // each service its own fixed host port for its API (inspectors are on ports Docker picks)
    const ports = [...dev.matchAll(/127\.0\.0\.1:\$\{MUPETS_[A-Z_]+:-(\d+)\}:/g)].map((match) => match[1]);
    expect(new Set(ports).size).toBe(ports.length);
  });

  test('each has only the files of what it shows', () => {
    const files = (name: string): string => git('ls-files', '--others', `images/${name}`);
    expect(files('web-hook')).toContain('images/web-hook/src/app.ts');
    expect(files('web-hook')).not.toContain('greeter.ts');
    expect(files('job-runner')).toContain('images/job-runner/src/greeter.ts');
    expect(files('job-runner')).not.toContain('app.ts');
    expect(readFileSync(join(scratch, 'images/job-runner/src/config.ts'), 'utf8')).toContain(
      "JOB_RUNNER_CHANNEL: brokerName.default('jobs')",
    );
  });

  test('lint, typecheck and prettier pass without a hand edit', () => {
    mustPass('npx', ['eslint', '--max-warnings', '0', 'images/order-mailer', 'images/web-hook', 'images/job-runner']);
    mustPass('npx', ['tsc', '-p', 'tsconfig.json']);
    mustPass('npx', ['prettier', '--check', '.']);
  }, 300_000);

  test("their own tests pass, against the test run's Redis", () => {
    // the servers of this run's global setup (REDIS_URL, ORIENTDB_*, KAFKA_BROKERS) serve the inner run too
    const env = { ...process.env };
    delete env.JEST_WORKER_ID;
    // (paths before --selectProjects, which takes every word after it)
    const { stderr } = mustPass(
      'npx',
      [
        'jest',
        'images/order-mailer',
        'images/web-hook',
        'images/job-runner',
        '--ci',
        '--selectProjects',
        'integration',
      ],
      env,
    );
    expect(stderr).toMatch(/Test Suites: 3 passed, 3 total/);
    expect(stderr).toMatch(/PASS integration images\/web-hook\/test\/service\.test\.ts/);
  }, 600_000);
});
