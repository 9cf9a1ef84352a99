import type { OrientConnection } from './connection';
import { minuteOf } from './record';
import { COUNT_CLASS, countKey, MESSAGE_CLASS } from './schema';

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
  const params: Record<string, unknown> = { minute };
  const totals = new Map<string, number>();
  const inserts = groups.map((group, i) => {
    totals.set(group.channel, (totals.get(group.channel) ?? 0) + Number(group.n));
    Object.assign(params, {
      [`k${i}`]: countKey(minute, group.channel, group.service, group.level ?? '', group.type, 'retention'),
      [`c${i}`]: group.channel,
      [`s${i}`]: group.service,
      [`l${i}`]: group.level ?? '',
      [`t${i}`]: group.type,
      [`n${i}`]: Number(group.n),
    });
    return (
      `INSERT INTO ${COUNT_CLASS} SET k = :k${i}, writer = 'retention', total = false, bucket = :minute, ` +
      `channel = :c${i}, service = :s${i}, level = :l${i}, type = :t${i}, n = :n${i};`
    );
  });
  [...totals].forEach(([channel, n], i) => {
    Object.assign(params, {
      [`tk${i}`]: countKey(minute, channel, '', '', '', 'retention', true),
      [`tc${i}`]: channel,
      [`tn${i}`]: n,
    });
    inserts.push(
      `INSERT INTO ${COUNT_CLASS} SET k = :tk${i}, writer = 'retention', total = true, bucket = :minute, ` +
        `channel = :tc${i}, service = '', level = '', type = '', n = :tn${i};`,
    );
  });
  await conn.script(
    ['BEGIN;', `DELETE FROM ${COUNT_CLASS} WHERE bucket = :minute;`, ...inserts, 'COMMIT;'].join('\n'),
    params,
  );
}
