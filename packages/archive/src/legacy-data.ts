import { classifyFailure } from './classify';
import type { OrientConnection } from './connection';
import { encodeData } from './data-codec';
import type { ArchiveLogger } from './logger';
import { containerFields } from './record';

/** Records per transaction while converting. */
export const CONVERT_BATCH = 500;
/** Conflicts in a row on one batch before giving up (the bootstrap is retried by its caller). */
const MAX_CONFLICTS = 20;

/**
 * Migration 2's data step: records written before it hold `data` as JSON text; each becomes the
 * embedded form (and gets its container fields). Walks the archive in `tk` order, `batchSize`
 * records per short transaction, so writers and retention go on meanwhile and memory stays flat
 * however big the archive. Safe to run from several archivers at once and to interrupt: a record
 * is converted only while its `data` is still text, and a batch another archiver touched first
 * is read again. Returns how many records it sent for conversion (another archiver may have
 * converted some of them first).
 */
export async function convertLegacyData(
  conn: OrientConnection,
  logger: ArchiveLogger,
  messageClass: string,
  batchSize = CONVERT_BATCH,
): Promise<number> {
  let after = '';
  let converted = 0;
  let unreadable = 0;
  let conflicts = 0;
  for (;;) {
    // a walk of the tk index; the text test is done here (in the query it made OrientDB sort)
    const page = await conn.query<{ uid: string; tk: string; data: unknown }>(
      `SELECT uid, tk, data FROM ${messageClass} WHERE tk > :afterTk ORDER BY tk LIMIT :n`,
      { afterTk: after, n: batchSize },
    );
    if (page.length === 0) {
      break;
    }
    const rows = page.filter((row): row is { uid: string; tk: string; data: string } => typeof row.data === 'string');
    const params: Record<string, unknown> = {};
    const updates: string[] = [];
    rows.forEach((row, i) => {
      let data: Record<string, unknown>;
      try {
        data = JSON.parse(row.data) as Record<string, unknown>;
      } catch {
        // not JSON (not written by this archive): left as it is, counted once
        unreadable++;
        return;
      }
      const { cid, cid12, stream } = containerFields(data);
      Object.assign(params, { [`r${i}`]: row.uid, [`d${i}`]: encodeData(data), [`c${i}`]: cid, [`p${i}`]: cid12 });
      params[`s${i}`] = stream;
      updates.push(
        `UPDATE ${messageClass} SET data = :d${i}, cid = :c${i}, cid12 = :p${i}, stream = :s${i} ` +
          `WHERE uid = :r${i} AND data.type() = 'STRING';`,
      );
    });
    try {
      if (updates.length > 0) {
        await conn.script(['BEGIN;', ...updates, 'COMMIT;'].join('\n'), params);
      }
    } catch (error) {
      // another archiver converted some of these at the same time: read the batch again
      if (classifyFailure(error) !== 'conflict' || ++conflicts > MAX_CONFLICTS) {
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 20 + Math.random() * 100));
      continue;
    }
    conflicts = 0;
    converted += updates.length;
    after = page[page.length - 1]!.tk;
  }
  if (converted > 0 || unreadable > 0) {
    logger.info('archive data converted to embedded documents', { converted, unreadable });
  }
  return converted;
}
