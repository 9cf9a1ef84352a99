import { execFile, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { homedir, tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './free-port';
import { supervisedProcess } from './supervised-process';

/** The Apache Kafka release the harness runs; `scripts/fetch-kafka.sh` fetches the same one (a unit test checks). */
export const KAFKA_VERSION = '4.1.2';

/** What the broker logs once it is up, unfenced and serving clients (`KafkaRaftServer.startup()`). */
const STARTED_LINE = 'Kafka Server started';

export interface KafkaServerOptions {
  /** Extra or overriding broker properties (`server.properties` lines). */
  properties?: Readonly<Record<string, string>>;
  /** JVM maximum heap. Default `512m`. */
  heap?: string;
  /** How long one start may take. Default 90 000 ms (a JVM on a busy 2-core VM is slow to warm up). */
  startTimeoutMs?: number;
  /**
   * Clients must log in with SASL/SCRAM-SHA-512 as one of these users (name → password), and ACLs
   * decide what each may do (none: nothing, but `superUser`, who may do everything). The broker and
   * its controller talk over PLAINTEXT listeners of their own (`internalPort`, whose unauthenticated
   * principal is a super user: a test sets ACLs there), on 127.0.0.1.
   */
  scram?: { readonly users: Readonly<Record<string, string>>; readonly superUser?: string };
}

export interface KafkaServer {
  /** `127.0.0.1:<port>`, the form `KAFKA_BROKERS` takes. */
  readonly brokers: string;
  readonly port: number;
  /** The KRaft controller listener. */
  readonly controllerPort: number;
  /** With `scram`: the broker's own PLAINTEXT listener (its principal is a super user); else `port`. */
  readonly internalPort: number;
  /** Holds the configuration and, under `data/`, the logs (topics) and the metadata log. */
  readonly dir: string;
  /** Kills the broker (SIGKILL by default) and waits until it is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same ports and data directory. */
  start(): Promise<void>;
  /** Stops it for good and removes its directory. */
  destroy(): Promise<void>;
}

/** Where `scripts/fetch-kafka.sh` puts the jars: `${MUPETS_CACHE:-$HOME/.cache/mupets}/kafka-<version>/libs`. */
export function kafkaLibsDir(env: NodeJS.ProcessEnv = process.env): string {
  const cache = env.MUPETS_CACHE || join(env.HOME || homedir(), '.cache', 'mupets');
  return join(cache, `kafka-${KAFKA_VERSION}`, 'libs');
}

const JAVA_HINT = 'run `apt-get install -y openjdk-17-jre-headless` (Debian/Ubuntu)';

/**
 * Throws a message that names what is missing, and the command that fixes it: `java` (17 or newer,
 * as Kafka 4 requires) or the Kafka jars. Returns the directory of the jars.
 */
export function assertKafkaInstalled(env: NodeJS.ProcessEnv = process.env): string {
  const probe = spawnSync('java', ['-version'], { encoding: 'utf8', env });
  if (probe.error || probe.status !== 0) {
    throw new Error(`java is not installed: Kafka ${KAFKA_VERSION} needs a Java 17+ runtime: ${JAVA_HINT}`);
  }
  const major = Number(/version "(\d+)/.exec(probe.stderr)?.[1] ?? 0);
  if (major < 17) {
    throw new Error(`java ${major} is too old: Kafka ${KAFKA_VERSION} needs Java 17 or newer: ${JAVA_HINT}`);
  }
  const libs = kafkaLibsDir(env);
  const jar = `kafka_2.13-${KAFKA_VERSION}.jar`;
  if (!existsSync(join(libs, jar)) || !readdirSync(libs).some((name) => name.startsWith('kafka-tools-'))) {
    throw new Error(`the Kafka ${KAFKA_VERSION} jars are not in ${libs}: run \`./scripts/fetch-kafka.sh\``);
  }
  return libs;
}

/** The command-line tools of the Kafka distribution's `bin/` that tests run, by script name. */
const KAFKA_TOOLS: Readonly<Record<string, string>> = {
  'kafka-console-producer.sh': 'org.apache.kafka.tools.ConsoleProducer',
  'kafka-topics.sh': 'org.apache.kafka.tools.TopicCommand',
  'kafka-acls.sh': 'org.apache.kafka.tools.AclCommand',
};

/**
 * Writes into `dir` shell scripts named as in the Kafka distribution's `bin/`
 * (`kafka-console-producer.sh`, `kafka-topics.sh`) that run those tools from the cached jars, so a
 * test can put `dir` on PATH and run documented commands as they are written.
 */
export function writeKafkaToolScripts(dir: string): void {
  const libs = assertKafkaInstalled();
  for (const [script, mainClass] of Object.entries(KAFKA_TOOLS)) {
    const path = join(dir, script);
    // quiet: the tools' own log goes to a log4j2 config that shows warnings and errors only
    writeFileSync(
      path,
      `#!/bin/sh\nexec java -Xmx256m -Dlog4j2.level=warn -cp '${join(libs, '*')}' ${mainClass} "$@"\n`,
    );
    chmodSync(path, 0o755);
  }
}

/** A KRaft cluster id: 16 random bytes, URL-safe base64 without padding (what `kafka-storage random-uuid` prints). */
function clusterId(): string {
  for (;;) {
    const id = randomBytes(16).toString('base64url');
    if (!id.startsWith('-')) {
      return id;
    }
  }
}

/** With SCRAM: clients on a SASL listener, the broker itself on a PLAINTEXT one, ACLs enforced. */
function scramProperties(
  port: number,
  internalPort: number,
  controllerPort: number,
  superUser: string | undefined,
): Record<string, string> {
  return {
    listeners: `CLIENT://127.0.0.1:${port},INTERNAL://127.0.0.1:${internalPort},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `CLIENT://127.0.0.1:${port},INTERNAL://127.0.0.1:${internalPort}`,
    'inter.broker.listener.name': 'INTERNAL',
    'listener.security.protocol.map': 'CLIENT:SASL_PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'sasl.enabled.mechanisms': 'SCRAM-SHA-512',
    'listener.name.client.scram-sha-512.sasl.jaas.config':
      'org.apache.kafka.common.security.scram.ScramLoginModule required;',
    'authorizer.class.name': 'org.apache.kafka.metadata.authorizer.StandardAuthorizer',
    // the broker and the controller reach each other unauthenticated, as ANONYMOUS, on 127.0.0.1
    'super.users': superUser ? `User:ANONYMOUS;User:${superUser}` : 'User:ANONYMOUS',
    'allow.everyone.if.no.acl.found': 'false',
  };
}

function serverProperties(
  dir: string,
  port: number,
  controllerPort: number,
  extra: Readonly<Record<string, string>>,
): string {
  const properties: Record<string, string> = {
    // one JVM is the whole cluster: broker and KRaft controller (Kafka 4 has no ZooKeeper)
    'process.roles': 'broker,controller',
    'node.id': '1',
    'controller.quorum.voters': `1@127.0.0.1:${controllerPort}`,
    listeners: `PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort}`,
    'advertised.listeners': `PLAINTEXT://127.0.0.1:${port}`,
    'controller.listener.names': 'CONTROLLER',
    'inter.broker.listener.name': 'PLAINTEXT',
    'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'log.dirs': join(dir, 'data'),
    // a single node: every internal topic with one replica, and few partitions so they start fast
    'offsets.topic.replication.factor': '1',
    'offsets.topic.num.partitions': '1',
    'transaction.state.log.replication.factor': '1',
    'transaction.state.log.min.isr': '1',
    'transaction.state.log.num.partitions': '1',
    'share.coordinator.state.topic.replication.factor': '1',
    'share.coordinator.state.topic.min.isr': '1',
    'default.replication.factor': '1',
    'num.partitions': '1',
    'group.initial.rebalance.delay.ms': '0',
    // after a SIGKILL the controller refuses the restarted broker's registration until the old one's
    // session expires (default 9 s); a shorter session makes a restart take seconds, not tens of them
    'broker.session.timeout.ms': '3000',
    'broker.heartbeat.interval.ms': '500',
    // @mupets/broker creates its topics itself; with auto-creation off a test notices if it does not
    'auto.create.topics.enable': 'false',
    ...extra,
  };
  return Object.entries(properties)
    .map(([key, value]) => `${key}=${value}`)
    .join('\n');
}

// warnings and errors only, plus the one line that says the broker is ready
const LOG4J2_PROPERTIES = `
status = warn
appender.out.type = Console
appender.out.name = out
appender.out.layout.type = PatternLayout
appender.out.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.out.ref = out
logger.started.name = kafka.server.KafkaRaftServer
logger.started.level = info
`;

/**
 * Starts a private single-node Kafka (KRaft, broker and controller in one JVM) from the cached jars,
 * on free ports of 127.0.0.1 below the ephemeral range, with its data in a temporary directory.
 */
export async function startKafkaServer(options: KafkaServerOptions = {}): Promise<KafkaServer> {
  const libs = assertKafkaInstalled();
  const port = await freePort();
  let controllerPort = await freePort();
  while (controllerPort === port) {
    controllerPort = await freePort();
  }
  let internalPort = port;
  while (options.scram && (internalPort === port || internalPort === controllerPort)) {
    internalPort = await freePort();
  }
  const dir = mkdtempSync(join(tmpdir(), 'mupets-kafka-'));
  const config = join(dir, 'server.properties');
  const log4j = join(dir, 'log4j2.properties');
  const scram = options.scram;
  const properties = {
    ...(scram ? scramProperties(port, internalPort, controllerPort, scram.superUser) : {}),
    ...options.properties,
  };
  writeFileSync(config, serverProperties(dir, port, controllerPort, properties));
  writeFileSync(log4j, LOG4J2_PROPERTIES);
  const jvm = [`-Dlog4j2.configurationFile=${log4j}`, '-Djava.awt.headless=true', '-cp', join(libs, '*')];
  // SCRAM credentials go into the metadata log as it is formatted
  const users = Object.entries(scram?.users ?? {}).flatMap(([name, password]) => [
    '--add-scram',
    `SCRAM-SHA-512=[name=${name},password=${password}]`,
  ]);
  try {
    await promisify(execFile)(
      'java',
      [...jvm, 'kafka.tools.StorageTool', 'format', '--cluster-id', clusterId(), '--config', config, ...users],
      { timeout: 60_000 },
    );
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw new Error(`kafka storage format failed: ${(error as Error).message}`, { cause: error });
  }

  const heap = options.heap ?? '512m';
  const args = [`-Xms${heap}`, `-Xmx${heap}`, ...jvm, 'kafka.Kafka', config];
  const startTimeoutMs = options.startTimeoutMs ?? 90_000;
  const { start, stop } = supervisedProcess({
    what: `kafka on port ${port}`,
    command: 'java',
    args,
    timeoutMs: startTimeoutMs,
    intervalMs: 100,
    ready: async (output) => output.includes(STARTED_LINE) && (await accepts(port)),
    // the start line must stay in view until it is seen
    keepOutput: 1_000_000,
  });
  try {
    await start();
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return {
    brokers: `127.0.0.1:${port}`,
    port,
    controllerPort,
    internalPort,
    dir,
    stop,
    start,
    async destroy() {
      await stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** True once a TCP connection to the port succeeds. */
function accepts(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ host: '127.0.0.1', port });
    socket.setTimeout(1000);
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
    socket.once('timeout', () => {
      socket.destroy();
      resolve(false);
    });
  });
}
