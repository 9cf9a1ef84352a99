import type { OrientConnection } from './connection';
import { minuteOf } from './record';
import { CountBudget, CountTally } from './count-rows';
import { COUNT_CLASS, MESSAGE_CLASS } from './schema';

/**
 * Deletes every record whose `ts` is before `cutoff`, `batchSize` at a time (each batch a short
 * transaction, so writers are never blocked long), then drops the counts of the minutes that are
 * gone and recounts the minute the cutoff falls in. Returns how many records were deleted.
 */
export async function deleteOlderThan(conn: OrientConnection, cutoff: Date, batchSize = 5000): Promise<number> {
  const before = cutoff.toISOString();
  let deleted = 0;
  for (;;) {
    const [row] = await conn.command<{ count: number }>(`DELETE FROM ${MESSAGE_CLASS} WHERE tk < :cutoff LIMIT :n`, {
      cutoff: before,
      n: batchSize,
    });
    const count = Number(row?.count ?? 0);
    deleted += count;
    if (count < batchSize) {
      break;
    }
  }
  const minute = minuteOf(cutoff);
  await conn.command(`DELETE FROM ${COUNT_CLASS} WHERE bucket < :minute`, { minute });
  if (cutoff.getTime() % 60_000 !== 0) {
    await recountMinute(conn, minute);
  }
  return deleted;
}

async function recountMinute(conn: OrientConnection, minute: string): Promise<void> {
  const start = `${minute}:00.000Z`;
  const end = new Date(new Date(start).getTime() + 60_000).toISOString();
  const groups = await conn.query<{ channel: string; service: string; level: string | null; type: string; n: number }>(
    `SELECT channel, service, level, type, count(*) AS n FROM ${MESSAGE_CLASS} ` +
      'WHERE tk >= :start AND tk < :end GROUP BY channel, service, level, type',
    { start, end },
  );
  // the same bound as the writers': the largest combinations keep rows of their own
  const tally = new CountTally('retention', new CountBudget());
  for (const group of groups.sort((a, b) => Number(b.n) - Number(a.n))) {
    tally.add(
      minute,
      group.channel,
      { service: group.service, level: group.level ?? '', type: group.type },
      Number(group.n),
    );
  }
  const params: Record<string, unknown> = { minute };
  const upserts = tally.statements(params);
  await conn.script(
    ['BEGIN;', `DELETE FROM ${COUNT_CLASS} WHERE bucket = :minute;`, ...upserts, 'COMMIT;'].join('\n'),
    params,
  );
}
