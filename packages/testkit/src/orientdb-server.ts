import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { freePort } from './free-port';
import { supervisedProcess } from './supervised-process';

/** The OrientDB release the harness and the benchmarks run; `scripts/fetch-orientdb.sh` caches it. */
export const ORIENTDB_VERSION = process.env.ORIENTDB_VERSION ?? '3.2.25';

export interface OrientDbServerOptions {
  /** Java heap, e.g. `1g`. Default `1g`. */
  heap?: string;
  /** OrientDB's page cache in MB (off-heap). Default 512. */
  diskCacheMb?: number;
}

export interface OrientDbServer {
  readonly host: string;
  /** Binary protocol port (orientjs). */
  readonly port: number;
  /** HTTP port (Studio, REST). */
  readonly httpPort: number;
  readonly username: 'root';
  readonly password: string;
  /** Where the server keeps its databases. */
  readonly dir: string;
  /** Stops the server (SIGKILL by default; SIGTERM shuts it down cleanly) and waits until it is gone. */
  stop(signal?: NodeJS.Signals): Promise<void>;
  /** Starts it again on the same ports and databases. */
  start(): Promise<void>;
  /** Stops it for good and removes its databases. */
  destroy(): Promise<void>;
}

/** Where `scripts/fetch-orientdb.sh` unpacks the distribution. */
export function orientDbHome(): string {
  const cache = process.env.MUPETS_CACHE ?? join(homedir(), '.cache', 'mupets');
  return join(cache, `orientdb-community-${ORIENTDB_VERSION}`);
}

const FETCH_HINT = 'run `scripts/fetch-orientdb.sh` (downloads it once from Maven Central)';

/** Throws, naming what is missing, unless Java and the OrientDB distribution are there. */
export function assertOrientDbInstalled(env: NodeJS.ProcessEnv = process.env): string {
  const java = spawnSync('java', ['-version'], { encoding: 'utf8', env });
  if (java.error || java.status !== 0) {
    throw new Error(
      'java is not installed (OrientDB needs Java 11+): run `apt-get install -y openjdk-17-jre-headless`',
    );
  }
  const home = orientDbHome();
  if (!existsSync(join(home, 'lib', `orientdb-server-${ORIENTDB_VERSION}.jar`))) {
    throw new Error(`OrientDB ${ORIENTDB_VERSION} is not in ${home}: ${FETCH_HINT}`);
  }
  return home;
}

/** Starts a private OrientDB server on free ports of 127.0.0.1 with its own databases directory. */
export async function startOrientDbServer(options: OrientDbServerOptions = {}): Promise<OrientDbServer> {
  const home = assertOrientDbInstalled();
  const port = await freePort();
  const httpPort = await freePort();
  const dir = mkdtempSync(join(tmpdir(), 'mupets-orientdb-'));
  const password = randomBytes(12).toString('hex');
  mkdirSync(join(dir, 'databases'));
  writeFileSync(join(dir, 'server.xml'), serverConfig(port, httpPort));
  const args = [
    '-server',
    `-Xmx${options.heap ?? '1g'}`,
    '-Djna.nosys=true',
    '-Djava.awt.headless=true',
    '-Dfile.encoding=UTF8',
    `-Dstorage.diskCache.bufferSize=${options.diskCacheMb ?? 512}`,
    `-Dorientdb.config.file=${join(dir, 'server.xml')}`,
    `-Dserver.database.path=${join(dir, 'databases')}`,
    `-Dorientdb.www.path=${join(home, 'www')}`,
    '-cp', `${resolve(home, 'lib')}/*:${resolve(home, 'plugins')}/*`,
    'com.orientechnologies.orient.server.OServerMain',
  ]; // prettier-ignore
  const env = { ...process.env, ORIENTDB_HOME: dir, ORIENTDB_ROOT_PASSWORD: password };
  const { start, stop } = supervisedProcess({
    what: `OrientDB on port ${port}`,
    command: 'java',
    args,
    cwd: dir,
    env,
    timeoutMs: 60_000,
    ready: (output) => output.includes('OrientDB Server is active'),
    // the banner line must stay in view until it is seen
    keepOutput: 1_000_000,
  });
  await start();
  return {
    host: '127.0.0.1',
    port,
    httpPort,
    username: 'root',
    password,
    dir,
    stop,
    start,
    async destroy() {
      await stop('SIGKILL');
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** A minimal server: binary and HTTP listeners on loopback, no plugins that phone out or cluster. */
function serverConfig(port: number, httpPort: number): string {
  return `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<orient-server>
  <handlers/>
  <network>
    <protocols>
      <protocol name="binary" implementation="com.orientechnologies.orient.server.network.protocol.binary.ONetworkProtocolBinary"/>
      <protocol name="http" implementation="com.orientechnologies.orient.server.network.protocol.http.ONetworkProtocolHttpDb"/>
    </protocols>
    <listeners>
      <listener protocol="binary" ip-address="127.0.0.1" port-range="${port}-${port}" socket="default"/>
      <listener protocol="http" ip-address="127.0.0.1" port-range="${httpPort}-${httpPort}" socket="default"/>
    </listeners>
  </network>
  <users/>
  <properties>
    <entry name="profiler.enabled" value="false"/>
  </properties>
</orient-server>
`;
}
