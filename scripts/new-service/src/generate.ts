import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { assertName } from '@mupets/broker';
import type * as Prettier from 'prettier';
import { isMap, parseDocument } from 'yaml';
import { addToCompose, readFragment } from './compose-edit';
import { nameProblem, serviceNames, type ServiceNames } from './names';
import { render, type Feature, type RenderValues } from './render';

/** The generator refuses: nothing was changed, and the message says what to do. */
export class GeneratorRefusal extends Error {
  override readonly name = 'GeneratorRefusal';
}

export interface GenerateOptions {
  /** The repository root. */
  root: string;
  name: string;
  /** Show an HTTP endpoint. */
  http: boolean;
  /** Show a consumer of this channel in the service's own group; undefined: no consumer. */
  consume: string | undefined;
}

export interface GenerateResult {
  readonly names: ServiceNames;
  readonly features: readonly Feature[];
  readonly channel: string;
  /** Repository-relative paths written. */
  readonly written: readonly string[];
  readonly apiHostPort: number;
}

const TEMPLATE_DIR = join(__dirname, '..', 'template');
/** Template files that belong to one feature; every other file is always copied. */
const FEATURE_FILES: Readonly<Record<string, Feature>> = {
  'src/app.ts': 'http',
  'src/http-server.ts': 'http',
  'src/greeter.ts': 'consume',
};
/** The prod stack's Redis users: generated services log in as `service`. */
const REDIS_USERS = 'deploy/redis/users.acl';
/** What a consumer of a channel runs on it (the broker's consumer: group, read, claim, retry, dead-letter). */
const CONSUMER_COMMANDS =
  '+xadd +evalsha +eval +xreadgroup +xack +xautoclaim +xclaim +xpending +xgroup|create +xgroup|createconsumer +xinfo +xlen +xrange +hincrby +hdel +multi +exec';

/**
 * users.acl with the `service` user given `channel` as the new service uses it: a consumer reads,
 * claims, acks and dead-letters there; an HTTP service publishes there. Nothing for a service that
 * only publishes its logs and events (the user may already), nor for a channel already granted.
 */
export function serviceUserWithChannel(usersAcl: string, channel: string, features: ReadonlySet<Feature>): string {
  const keys = `~@P@${channel} ~@P@${channel}.dead ~@P@${channel}:failures:*`;
  const selector = features.has('consume')
    ? `(${keys} ${CONSUMER_COMMANDS})`
    : features.has('http') && channel !== 'logs' && channel !== 'events'
      ? `(~@P@${channel} +xadd +evalsha +eval)`
      : undefined;
  if (selector === undefined) {
    return usersAcl;
  }
  const lines = usersAcl.split('\n');
  const index = lines.findIndex((line) => line.startsWith('user service '));
  if (index < 0) {
    throw new GeneratorRefusal(`${REDIS_USERS} has no "user service" line to give ${channel} to; restore it first.`);
  }
  if (lines[index]!.includes(selector)) {
    return usersAcl;
  }
  lines[index] = `${lines[index]} ${selector}`;
  return lines.join('\n');
}

/** The prod stack's Kafka ACLs: generated services log in as `service`. */
const KAFKA_ACLS = 'deploy/kafka/acls.sh';

/**
 * acls.sh with the Kafka ACLs the new service needs on `channel`: a consumer reads it in its own
 * group (and only that group) and dead-letters; an HTTP service publishes there. Nothing for a
 * service that only publishes to logs and events.
 */
export function kafkaAclsWithChannel(
  aclsSh: string,
  service: string,
  channel: string,
  features: ReadonlySet<Feature>,
): string {
  const lines: string[] = [];
  if (features.has('consume')) {
    lines.push(
      `# ${service} (npm run new:service): consumes ${channel} in its group ${service}, publishes there`,
      `allow service Read Write Describe Create -- --topic "\${p}${channel}"`,
      `allow service Write Describe Create -- --topic "\${p}${channel}.dead"`,
      `allow service Read Describe -- --group "\${p}${channel}/${service}"`,
    );
  } else if (features.has('http') && channel !== 'logs' && channel !== 'events') {
    lines.push(
      `# ${service} (npm run new:service): publishes to ${channel}`,
      `allow service Write Describe Create -- --topic "\${p}${channel}"`,
    );
  }
  return lines.length === 0 ? aclsSh : `${aclsSh.replace(/\n*$/, '\n')}\n${lines.join('\n')}\n`;
}

/** The compose fragments, not copied into the service. */
const COMPOSE_FRAGMENTS = { dev: 'compose.dev.yml', prod: 'compose.prod.yml' } as const;
const COMPOSE_FILES = { dev: 'docker-compose.dev.yml', prod: 'docker-compose.prod.yml' } as const;
/**
 * A service's dev API gets a fixed host port from here up, above the ones the stack fixes (the
 * admin's 8080); its inspector and health ports are left to Docker, as the stack's own are.
 */
const FIRST_API_PORT = 8082;

/**
 * Creates images/<name>/ from the template and adds the service to both compose files and to the
 * lockfile's workspaces. Every check runs first and every file is rendered in memory; only then is
 * anything written, and a failure while writing puts every touched file back.
 */
export async function generateService(options: GenerateOptions): Promise<GenerateResult> {
  const { root } = options;
  const problem = nameProblem(options.name);
  if (problem) {
    throw new GeneratorRefusal(`${problem}. Choose another name.`);
  }
  const names = serviceNames(options.name);
  const serviceDir = join('images', names.kebab);
  if (existsSync(join(root, serviceDir))) {
    throw new GeneratorRefusal(`${serviceDir} exists already. Choose another name, or remove it first.`);
  }
  for (const packageDir of ['packages', 'images']) {
    if (readdirSync(join(root, packageDir)).includes(names.kebab)) {
      throw new GeneratorRefusal(
        `${packageDir}/${names.kebab} exists: @mupets/${names.kebab} is taken. Choose another name.`,
      );
    }
  }
  const composeTexts = {
    dev: readFileSync(join(root, COMPOSE_FILES.dev), 'utf8'),
    prod: readFileSync(join(root, COMPOSE_FILES.prod), 'utf8'),
  };
  for (const text of Object.values(composeTexts)) {
    // a file that does not parse is refused below, with its reason
    const services = parseDocument(text).get('services');
    if (isMap(services) && services.has(names.kebab)) {
      throw new GeneratorRefusal(`a compose service named ${names.kebab} exists already. Choose another name.`);
    }
  }
  const channel = options.consume ?? 'events';
  try {
    assertName('channel', channel);
  } catch (error) {
    throw new GeneratorRefusal(`--consume: ${(error as Error).message}`);
  }
  const features = new Set<Feature>();
  if (options.http) {
    features.add('http');
  }
  if (options.consume !== undefined) {
    features.add('consume');
  }
  const used = publishedPorts(composeTexts.dev);
  const apiHostPort = firstFree(FIRST_API_PORT, used);
  const values: RenderValues = { names, features, channel, apiHostPort };

  // --- everything in memory: the compose edits first (they may refuse), then the files ----------
  const files = new Map<string, string>();
  for (const which of ['dev', 'prod'] as const) {
    const fragment = readFragment(
      render(readFileSync(join(TEMPLATE_DIR, COMPOSE_FRAGMENTS[which]), 'utf8'), values, COMPOSE_FRAGMENTS[which]),
      ['volumes', 'secrets'],
    );
    try {
      files.set(COMPOSE_FILES[which], addToCompose(composeTexts[which], fragment, COMPOSE_FILES[which]));
    } catch (error) {
      throw new GeneratorRefusal((error as Error).message);
    }
  }

  const usersAcl = readFileSync(join(root, REDIS_USERS), 'utf8');
  const withChannel = serviceUserWithChannel(usersAcl, channel, features);
  if (withChannel !== usersAcl) {
    files.set(REDIS_USERS, withChannel);
  }
  const aclsSh = readFileSync(join(root, KAFKA_ACLS), 'utf8');
  const withAcls = kafkaAclsWithChannel(aclsSh, names.kebab, channel, features);
  if (withAcls !== aclsSh) {
    files.set(KAFKA_ACLS, withAcls);
  }

  for (const file of templateFiles()) {
    if (Object.values(COMPOSE_FRAGMENTS).includes(file as never)) {
      continue;
    }
    const feature = FEATURE_FILES[file];
    if (feature && !features.has(feature)) {
      continue;
    }
    const path = join(serviceDir, file);
    files.set(path, await format(root, path, render(readFileSync(join(TEMPLATE_DIR, file), 'utf8'), values, file)));
  }
  const packageJsonPath = join(serviceDir, 'package.json');
  files.set(packageJsonPath, await format(root, packageJsonPath, packageJson(root, names, features)));
  // --- write, or put everything back ------------------------------------------------------------
  const lockPath = join(root, 'package-lock.json');
  const lockBefore = readFileSync(lockPath, 'utf8');
  try {
    for (const [path, text] of files) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    // npm ci (in every image and in CI) refuses a lockfile that lacks a workspace: record it there,
    // without touching node_modules; every dependency the service declares is in the lockfile already
    const npm = spawnSync(
      'npm',
      ['install', '--package-lock-only', '--ignore-scripts', '--no-audit', '--no-fund', '--prefer-offline'],
      { cwd: root, encoding: 'utf8' },
    );
    if (npm.status !== 0) {
      throw new Error(`npm install --package-lock-only failed: ${npm.stderr || npm.error?.message}`);
    }
  } catch (error) {
    rmSync(join(root, serviceDir), { recursive: true, force: true });
    for (const which of ['dev', 'prod'] as const) {
      writeFileSync(join(root, COMPOSE_FILES[which]), composeTexts[which]);
    }
    writeFileSync(join(root, REDIS_USERS), usersAcl);
    writeFileSync(join(root, KAFKA_ACLS), aclsSh);
    writeFileSync(lockPath, lockBefore);
    throw error;
  }
  return {
    names,
    features: [...features],
    channel,
    written: [...files.keys()],
    apiHostPort,
  };
}

function templateFiles(dir = TEMPLATE_DIR): string[] {
  return readdirSync(dir).flatMap((entry) => {
    const path = join(dir, entry);
    return statSync(path).isDirectory() ? templateFiles(path) : [relative(TEMPLATE_DIR, path)];
  });
}

/** Formatted as the repository's prettier config says, so `prettier --check` passes (no parser: as is). */
async function format(root: string, path: string, text: string): Promise<string> {
  // loaded here, not at the top: prettier's entry point runs a dynamic import() as it loads, which a
  // jest test (that runs the generator in-process for its refusals, before anything is formatted) cannot
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const prettier = require('prettier') as typeof Prettier;
  const absolute = join(root, path);
  const info = await prettier.getFileInfo(absolute);
  if (!info.inferredParser) {
    return text;
  }
  const config = (await prettier.resolveConfig(absolute)) ?? {};
  return prettier.format(text, { ...config, filepath: absolute });
}

/**
 * The service's package.json. Versions come from the workspace (ours) and from the lockfile (the
 * versions installed now), so the lockfile already satisfies them and nothing is downloaded.
 */
function packageJson(root: string, names: ServiceNames, features: ReadonlySet<Feature>): string {
  const lock = JSON.parse(readFileSync(join(root, 'package-lock.json'), 'utf8')) as {
    packages: Record<string, { version?: string }>;
  };
  const ours = (dir: string): string =>
    (JSON.parse(readFileSync(join(root, 'packages', dir, 'package.json'), 'utf8')) as { version: string }).version;
  const locked = (name: string): string => {
    const version = lock.packages[`node_modules/${name}`]?.version;
    if (!version) {
      throw new GeneratorRefusal(`${name} is not in package-lock.json; run npm ci, then the generator again.`);
    }
    return `^${version}`;
  };
  const dependencies: Record<string, string> = {
    '@mupets/broker': ours('broker'),
    '@mupets/cargo': ours('cargo'),
  };
  const devDependencies: Record<string, string> = { '@mupets/testkit': ours('testkit') };
  if (features.has('http')) {
    dependencies.express = locked('express');
    devDependencies['@types/express'] = locked('@types/express');
  }
  dependencies.zod = locked('zod');
  const shows = [features.has('http') ? 'an HTTP API' : '', features.has('consume') ? 'a consumer group' : '']
    .filter(Boolean)
    .join(' and ');
  return `${JSON.stringify(
    {
      name: `@mupets/${names.kebab}`,
      version: '0.1.0',
      private: true,
      description: `Cargo service ${names.kebab}${shows ? ` (${shows})` : ''}, created by npm run new:service.`,
      main: 'dist/main.js',
      scripts: { build: 'tsc -p tsconfig.build.json', start: 'node dist/main.js' },
      dependencies: sorted(dependencies),
      devDependencies: sorted(devDependencies),
    },
    null,
    2,
  )}\n`;
}

function sorted(record: Record<string, string>): Record<string, string> {
  return Object.fromEntries(Object.entries(record).sort(([a], [b]) => a.localeCompare(b)));
}

/** Host ports the dev file publishes by default (`127.0.0.1:${VAR:-1234}:…` or `127.0.0.1:1234:…`). */
function publishedPorts(text: string): Set<number> {
  const ports = new Set<number>();
  for (const match of text.matchAll(/127\.0\.0\.1:(?:\$\{[A-Za-z0-9_]+:-(\d+)\}|(\d+)):/g)) {
    ports.add(Number(match[1] ?? match[2]));
  }
  return ports;
}

function firstFree(from: number, used: ReadonlySet<number>): number {
  let port = from;
  while (used.has(port)) {
    port++;
  }
  return port;
}
