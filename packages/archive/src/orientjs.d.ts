/** The part of orientjs 3.2 that @mupets/archive uses (the package ships no types). */
declare module 'orientjs' {
  export type Params = Record<string, unknown>;

  export interface ResultSet<T> {
    all(): Promise<T[]>;
  }

  export interface Session {
    query<T = Record<string, unknown>>(sql: string, options?: { params?: Params }): ResultSet<T>;
    command<T = Record<string, unknown>>(sql: string, options?: { params?: Params }): ResultSet<T>;
    /** An SQL script: several statements, one round trip. */
    batch<T = Record<string, unknown>>(script: string, options?: { params?: Params }): ResultSet<T>;
    /** Returns a pooled session to its pool. */
    close(): Promise<void>;
  }

  export interface SessionPool {
    acquire(): Promise<Session>;
    close(): Promise<void>;
  }

  export interface Credentials {
    name: string;
    username: string;
    password: string;
  }

  export interface OrientDBClient {
    existsDatabase(options: Credentials): Promise<boolean>;
    createDatabase(options: Credentials & { type?: 'plocal' | 'memory' }): Promise<unknown>;
    dropDatabase(options: Credentials): Promise<unknown>;
    sessions(options: Credentials & { pool?: { max?: number; min?: number } }): Promise<SessionPool>;
    close(): Promise<void>;
  }

  export const OrientDBClient: {
    connect(options: { host: string; port: number; pool?: { max?: number; min?: number } }): Promise<OrientDBClient>;
  };
}
