import { STREAMS, type Archive, type ArchivedMessage, type Bucket, type SearchPage } from '@mupets/archive';
import express, { type Response, type Router } from 'express';
import { z } from 'zod';
import { notFound, parseInput } from '../http/http-error';
import {
  channelName,
  envelopeId,
  fieldPath,
  fieldValue,
  identifier,
  isoTime,
  level,
  queryInt,
} from '../http/input-schemas';
import type { AppLogger } from '../logger';
import { csvHeader, csvLine, ndjsonLine } from './archive-export';

export interface ArchiveRoutesOptions {
  archive: Pick<Archive, 'search' | 'counts' | 'findById'>;
  logger: AppLogger;
}

const filters = {
  from: isoTime.optional(),
  to: isoTime.optional(),
  channel: channelName.optional(),
  service: identifier.optional(),
  level: level.optional(),
  type: identifier.optional(),
  text: z.string().max(200).optional(),
  /** With `value`: a path inside `data`; the archive requires the two together. */
  field: fieldPath.optional(),
  value: fieldValue.optional(),
  /** A container name or id (12+ hex characters). */
  container: identifier.optional(),
  stream: z.enum(STREAMS).optional(),
};

// the rules joining `beforeId`, `beforeTs` and a channel are the archive's (its errors answer 400)
const searchQuery = z.strictObject({
  ...filters,
  limit: queryInt(1, 1000).optional(),
  before: z.string().min(1).max(1024).optional(),
  /** Start strictly below this message (the live view's oldest line), archived or not yet. */
  beforeId: envelopeId.optional(),
  beforeTs: isoTime.optional(),
  /** The channel of `beforeId` when the search spans every channel (does not filter). */
  beforeChannel: channelName.optional(),
});

const countsQuery = z.strictObject({
  ...filters,
  from: isoTime,
  to: isoTime,
  bucket: z.enum(['minute', 'hour', 'day']).optional(),
});

const exportQuery = z.strictObject({ ...filters, format: z.enum(['ndjson', 'csv']) });

const recordParams = z.strictObject({ channel: channelName, id: envelopeId });

/** Records per page while exporting. */
const EXPORT_PAGE = 1000;

/** What `GET /api/archive/counts` answers: records per bucket, oldest first. */
export interface CountsResponse {
  readonly buckets: readonly Bucket[];
}

/** `GET /api/archive/...`: search, counts, export, one record. */
export function createArchiveRouter(options: ArchiveRoutesOptions): Router {
  const { archive } = options;
  const router = express.Router();

  router.get('/search', async (request, response) => {
    const query = parseInput(searchQuery, request.query, 'query');
    response.json((await archive.search(query)) satisfies SearchPage);
  });

  router.get('/counts', async (request, response) => {
    const query = parseInput(countsQuery, request.query, 'query');
    response.json({ buckets: await archive.counts(query) } satisfies CountsResponse);
  });

  router.get('/export', async (request, response) => {
    const { format, ...query } = parseInput(exportQuery, request.query, 'query');
    // the first page before any header: a bad query or a down archive still gets a JSON error
    let page: SearchPage = await archive.search({ ...query, limit: EXPORT_PAGE });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    response.status(200);
    response.setHeader(
      'content-type',
      format === 'csv' ? 'text/csv; charset=utf-8' : 'application/x-ndjson; charset=utf-8',
    );
    response.setHeader('content-disposition', `attachment; filename="mupets-archive-${stamp}.${format}"`);
    response.setHeader('cache-control', 'no-store');
    const line = format === 'csv' ? csvLine : ndjsonLine;
    let closed = false;
    response.on('close', () => {
      closed = true;
    });
    if (format === 'csv') {
      await write(response, csvHeader());
    }
    let count = 0;
    for (;;) {
      for (const record of page.records) {
        if (closed) {
          return;
        }
        await write(response, line(record));
        count++;
      }
      if (!page.next || closed) {
        break;
      }
      page = await archive.search({ ...query, limit: EXPORT_PAGE, before: page.next });
    }
    response.end();
    options.logger.info('archive exported', { format, count });
  });

  router.get('/records/:channel/:id', async (request, response) => {
    const { channel, id } = parseInput(recordParams, request.params, 'params');
    const record = await archive.findById(channel, id);
    if (!record) {
      throw notFound('record');
    }
    response.json(record satisfies ArchivedMessage);
  });
  return router;
}

/** Writes, and waits for the socket to drain when its buffer is full (or it closed). */
function write(response: Response, chunk: string): Promise<void> {
  if (response.write(chunk)) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    const done = (): void => {
      response.off('drain', done);
      response.off('close', done);
      resolve();
    };
    response.on('drain', done);
    response.on('close', done);
  });
}
