import { OrientDBClient, type Params, type Session, type SessionPool } from 'orientjs';
import { classifyFailure, reasonOf } from './classify';
import { ArchiveClosedError, ArchiveUnavailableError } from './errors';
import type { ArchiveLogger } from './logger';

export interface OrientConfig {
  host: string;
  /** Binary protocol port. Default 2424. */
  port?: number;
  /**
   * A server user allowed to create the database (e.g. root) on first start; with `createDatabase`
   * false, a user of the database itself (the admin's reader, `Archive.ensureUser`).
   */
  username: string;
  password: string;
  database: string;
  /** Create the database when it is missing (needs a server user). Default true. */
  createDatabase?: boolean;
  /** Sessions in the pool. Default 4. */
  poolMax?: number;
  /** An operation that takes longer is abandoned and its connection dropped. Default 60000 ms. */
  operationTimeoutMs?: number;
}

/**
 * One database on one OrientDB server: connects lazily, creates the database when it is missing,
 * and after a connection failure drops the client so the next operation connects afresh (orientjs
 * does not recover a pool whose server restarted).
 */
export class OrientConnection {
  private client: OrientDBClient | undefined;
  private pool: SessionPool | undefined;
  private connecting: Promise<SessionPool> | undefined;
  private closed = false;
  private down = false;

  constructor(
    readonly config: OrientConfig,
    private readonly logger: ArchiveLogger,
  ) {}

  /** Runs `work` on a pooled session. Connection failures surface as ArchiveUnavailableError. */
  async withSession<T>(work: (session: Session) => Promise<T>): Promise<T> {
    if (this.closed) {
      throw new ArchiveClosedError();
    }
    let session: Session;
    try {
      const pool = await (this.connecting ??= this.connect());
      session = await pool.acquire();
    } catch (error) {
      throw this.failed(error);
    }
    try {
      const result = await withTimeout(work(session), this.config.operationTimeoutMs ?? 60_000);
      this.recovered();
      return result;
    } catch (error) {
      throw classifyFailure(error) === 'unavailable' ? this.failed(error) : error;
    } finally {
      session.close().catch(() => undefined);
    }
  }

  query<T>(sql: string, params: Params = {}): Promise<T[]> {
    return this.withSession((s) => s.query<T>(sql, { params }).all());
  }

  command<T>(sql: string, params: Params = {}): Promise<T[]> {
    return this.withSession((s) => s.command<T>(sql, { params }).all());
  }

  /**
   * Runs an SQL script. When it fails inside BEGIN...COMMIT, OrientDB leaves the transaction open
   * on the session; rolled back here, or the pooled session would carry it into its next script.
   */
  script<T>(script: string, params: Params = {}): Promise<T[]> {
    return this.withSession(async (s) => {
      try {
        return await s.batch<T>(script, { params }).all();
      } catch (error) {
        await s
          .batch('ROLLBACK;')
          .all()
          .catch(() => undefined);
        throw error;
      }
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    await this.reset();
  }

  private async connect(): Promise<SessionPool> {
    const { host, port = 2424, username, password, database, poolMax = 4 } = this.config;
    const client = await OrientDBClient.connect({ host, port, pool: { max: 2 } });
    this.client = client;
    const credentials = { name: database, username, password };
    if (this.config.createDatabase !== false && !(await client.existsDatabase(credentials))) {
      try {
        await client.createDatabase({ ...credentials, type: 'plocal' });
        this.logger.info('archive database created', { database });
      } catch (error) {
        // another replica may have created it between the check and the create
        if (!(await client.existsDatabase(credentials))) {
          throw error;
        }
      }
    }
    this.pool = await client.sessions({ ...credentials, pool: { max: poolMax } });
    return this.pool;
  }

  private failed(error: unknown): Error {
    if (!this.down) {
      this.down = true;
      this.logger.warn('archive connection lost', { error: reasonOf(error) });
    }
    void this.reset();
    return error instanceof ArchiveUnavailableError
      ? error
      : new ArchiveUnavailableError(`OrientDB unavailable: ${reasonOf(error)}`, { cause: error });
  }

  private recovered(): void {
    if (this.down) {
      this.down = false;
      this.logger.info('archive connection recovered');
    }
  }

  private async reset(): Promise<void> {
    const { client, pool } = this;
    this.client = undefined;
    this.pool = undefined;
    this.connecting = undefined;
    await pool?.close().catch(() => undefined);
    await client?.close().catch(() => undefined);
  }
}

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new ArchiveUnavailableError(`OrientDB did not answer within ${ms} ms`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
