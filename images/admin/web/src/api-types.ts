// The API's shapes, imported type-only from the server that produces them (docs/admin-api.md): a
// server change that breaks the UI fails `tsc -p images/admin/web`. Types are erased by esbuild, so
// none of the server's code reaches the browser bundle.
import type { Level } from '@mupets/broker';

export type { Envelope, Level, ChannelStats, GroupStats } from '@mupets/broker';
export type { ArchivedMessage, SearchPage, Bucket } from '@mupets/archive';
export type { TokenRecord } from '@mupets/tokens';
export type { LogLine } from '@mupets/cargo';
export type { StatusResponse as Status } from '../../src/status/status.router';
export type {
  BrokerOverview,
  DeadLetterList,
  DeadLetterView as DeadLetter,
  ReplayResult,
} from '../../src/broker/broker.router';
export type {
  ContainerActionResult,
  ContainerList,
  ContainerLogs,
  LogFollowEnd,
} from '../../src/containers/containers.router';
export type { ContainerSummary as ContainerInfo } from '../../src/containers/container-service';
export type { ContainerStats } from '../../src/containers/container-stats';
export type { CountsResponse } from '../../src/archive/archive.router';
export type { LiveEntry, LiveReady } from '../../src/live/live.router';
export type { SubmittedEvent } from '../../src/events/events.router';
export type { CreatedToken, TokenList } from '../../src/tokens/tokens.router';
export type { SessionInfo } from '../../src/auth/auth.router';
export type { ErrorBody } from '../../src/http/error-handler';
export type { InputIssue as Issue } from '../../src/http/http-error';

/** Each level's rank, most severe first: a Record over the server's Level, so none can be missing or extra. */
const LEVEL_RANK: Record<Level, number> = {
  fatal: 0,
  error: 1,
  warn: 2,
  info: 3,
  http: 4,
  verbose: 5,
  debug: 6,
  silly: 7,
};

/** Every level, most severe first (the server's LEVELS, kept here so no server code is bundled). */
export const LEVELS = (Object.keys(LEVEL_RANK) as Level[]).sort((a, b) => LEVEL_RANK[a] - LEVEL_RANK[b]);
