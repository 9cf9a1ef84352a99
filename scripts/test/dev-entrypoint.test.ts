// The dev images' shared entry point (scripts/dev-entrypoint.sh), run with /bin/sh as the images run
// it, against a scratch app directory and a `node` that prints the arguments it was given.
import { spawnSync } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createHash } from 'node:crypto';

const ROOT = resolve(__dirname, '../..');
const ENTRYPOINT = join(ROOT, 'scripts/dev-entrypoint.sh');

/** A scratch /app whose node_modules matches its lockfile, and a `node` on PATH that echoes its arguments. */
function scratch(): { app: string; bin: string } {
  const app = mkdtempSync(join(tmpdir(), 'dev-entrypoint-'));
  const lock = '{"lockfileVersion":3}\n';
  writeFileSync(join(app, 'package-lock.json'), lock);
  mkdirSync(join(app, 'node_modules'));
  writeFileSync(join(app, 'node_modules/.mupets-lock.sha256'), `${createHash('sha256').update(lock).digest('hex')}\n`);
  const bin = join(app, 'bin');
  mkdirSync(bin);
  writeFileSync(join(bin, 'node'), '#!/bin/sh\nprintf "%s\\n" "$@"\n');
  chmodSync(join(bin, 'node'), 0o755);
  return { app, bin };
}

function run(env: Record<string, string>, args: string[]) {
  const { app, bin } = scratch();
  const result = spawnSync('/bin/sh', [ENTRYPOINT, ...args], {
    env: { PATH: `${bin}:/usr/bin:/bin`, MUPETS_APP_DIR: app, ...env },
    encoding: 'utf8',
  });
  return { status: result.status, args: result.stdout.split('\n').filter(Boolean), stderr: result.stderr };
}

/** The CMD of every dev image, the generator's template's included. */
function devCommands(): Array<{ file: string; cmd: string[] }> {
  const files = [
    ...readdirSync(join(ROOT, 'images')).map((image) => join('images', image, 'df.dev.Dockerfile')),
    'scripts/new-service/template/df.dev.Dockerfile',
  ];
  return files.map((file) => {
    const line = readFileSync(join(ROOT, file), 'utf8')
      .split('\n')
      .find((each) => each.startsWith('CMD '));
    return { file, cmd: JSON.parse(line!.slice(4)) as string[] };
  });
}

test('no dev image starts a Node inspector of its own: it listens only when asked for', () => {
  const commands = devCommands();
  expect(commands.length).toBeGreaterThanOrEqual(5);
  for (const { file, cmd } of commands) {
    expect({ file, inspect: cmd.filter((arg) => arg.startsWith('--inspect')) }).toEqual({ file, inspect: [] });
    // and the entry point, without MUPETS_INSPECT, runs the command as it is
    expect(run({}, cmd)).toEqual({ status: 0, args: cmd.slice(1), stderr: '' });
  }
});

test('MUPETS_INSPECT=host:port starts node with the inspector there', () => {
  const { cmd } = devCommands()[0]!;
  expect(run({ MUPETS_INSPECT: '0.0.0.0:9229' }, cmd)).toEqual({
    status: 0,
    args: ['--inspect=0.0.0.0:9229', ...cmd.slice(1)],
    stderr: '',
  });
  expect(run({ MUPETS_INSPECT: '127.0.0.1:9230' }, ['node', 'x.js']).args).toEqual([
    '--inspect=127.0.0.1:9230',
    'x.js',
  ]);
});

test('a MUPETS_INSPECT that is not host:port stops the container with a message naming it', () => {
  for (const bad of ['0.0.0.0:9229; rm -rf /', 'yes', '0.0.0.0:', '$(id)']) {
    const result = run({ MUPETS_INSPECT: bad }, ['node', 'x.js']);
    expect(result.status).toBe(64);
    expect(result.args).toEqual([]);
    expect(result.stderr).toMatch(/MUPETS_INSPECT must be <host>:<port>/);
  }
});
