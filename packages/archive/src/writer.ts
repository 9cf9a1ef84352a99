import { classifyFailure, reasonOf } from './classify';
import type { OrientConnection } from './connection';
import { ArchiveUnavailableError } from './errors';
import { minuteOf, toRow, type ArchiveInput, type MessageRow } from './record';
import { rowProblem } from './record-limits';
import { CountBudget, CountTally } from './count-rows';
import { MESSAGE_CLASS } from './schema';

export interface RejectedInput {
  readonly input: ArchiveInput;
  /** Why it was refused: names the field and the rule. */
  readonly reason: string;
}

export interface WriteResult {
  /** Records newly stored. */
  readonly stored: number;
  /** Inputs already in the archive (a redelivery), not stored again. */
  readonly duplicates: number;
  /** Inputs the archive refuses for good (bad data); everything else of the batch is stored. */
  readonly rejected: readonly RejectedInput[];
}

interface Pending {
  readonly input: ArchiveInput;
  readonly row: MessageRow;
}

const MAX_ATTEMPTS = 6;
/** What the script returns once its transaction committed; anything else is not a confirmation. */
const COMMITTED = 'committed';

/**
 * Stores a batch in one round trip: one transaction first looks for records already there (a
 * redelivery) and, if there are none, inserts every record and bumps the per-minute counts, so
 * the two never disagree. If some are there it writes nothing and names them; the batch goes
 * again without them. Rows the schema would refuse are held out before writing and reported in
 * `rejected`. Throws ArchiveUnavailableError when OrientDB cannot be reached: then nothing of the
 * batch may be assumed stored (writing it again is safe).
 */
export async function writeBatch(
  conn: OrientConnection,
  inputs: readonly ArchiveInput[],
  writer: string,
  budget: CountBudget,
): Promise<WriteResult> {
  const seen = new Set<string>();
  const pending: Pending[] = [];
  const rejected: RejectedInput[] = [];
  const now = Date.now();
  for (const input of inputs) {
    const row = toRow(input, now);
    const problem = rowProblem(row);
    if (problem) {
      rejected.push({ input, reason: problem });
    } else if (!seen.has(row.uid)) {
      seen.add(row.uid);
      pending.push({ input, row });
    }
  }
  const result = await store(conn, pending, writer, budget);
  return {
    stored: result.stored,
    duplicates: result.duplicates + inputs.length - rejected.length - pending.length,
    rejected: [...rejected, ...result.rejected],
  };
}

async function store(
  conn: OrientConnection,
  items: readonly Pending[],
  writer: string,
  budget: CountBudget,
): Promise<WriteResult> {
  let pending = items;
  let duplicates = 0;
  for (let attempt = 1; ; attempt++) {
    if (pending.length === 0) {
      return { stored: 0, duplicates, rejected: [] };
    }
    try {
      const { script, params } = insertScript(
        pending.map((p) => p.row),
        writer,
        budget,
      );
      const reply = await conn.script<{ uid?: unknown; value?: unknown }>(script, params);
      if (reply.length === 1 && reply[0]!.value === COMMITTED) {
        return { stored: pending.length, duplicates, rejected: [] };
      }
      const existing = new Set(reply.flatMap((r) => (typeof r.uid === 'string' ? [r.uid] : [])));
      if (existing.size === 0) {
        // e.g. a reply cut short by a dying server: the commit is not confirmed, so neither is the write
        throw new ArchiveUnavailableError(`OrientDB gave no confirmation of the commit: ${JSON.stringify(reply)}`);
      }
      duplicates += existing.size;
      pending = pending.filter((p) => !existing.has(p.row.uid));
    } catch (error) {
      const kind = classifyFailure(error);
      if (kind === 'rejected' && pending.length > 1) {
        return storeOneByOne(conn, pending, duplicates, writer, budget);
      } else if (kind === 'rejected') {
        return { stored: 0, duplicates, rejected: [{ input: pending[0]!.input, reason: reasonOf(error) }] };
      } else if ((kind !== 'conflict' && kind !== 'duplicate') || attempt >= MAX_ATTEMPTS) {
        // duplicate: another replica stored one of these at the same instant; look again
        throw error;
      }
      await new Promise((resolve) => setTimeout(resolve, 20 * attempt + Math.random() * 50));
    }
  }
}

/**
 * OrientDB refused something the writer's own checks let through: find it by writing each record
 * in a transaction of its own (a one-record transaction that fails leaves nothing behind).
 */
async function storeOneByOne(
  conn: OrientConnection,
  pending: readonly Pending[],
  duplicates: number,
  writer: string,
  budget: CountBudget,
): Promise<WriteResult> {
  let stored = 0;
  const rejected: RejectedInput[] = [];
  for (const item of pending) {
    const result = await store(conn, [item], writer, budget);
    stored += result.stored;
    duplicates += result.duplicates;
    rejected.push(...result.rejected);
  }
  return { stored, duplicates, rejected };
}

/**
 * The transaction for a batch. Only placeholders (`:r0`, `:c2`) are written into the text;
 * every value travels as a parameter. Returns the uids already stored (nothing written then).
 */
export function insertScript(
  rows: readonly MessageRow[],
  writer = '',
  budget = new CountBudget(),
): { script: string; params: Record<string, unknown> } {
  const params: Record<string, unknown> = { uids: rows.map((row) => row.uid) };
  // one INSERT ... CONTENT per row: measured 2-3x faster than one multi-row INSERT ... VALUES,
  // whose thousands of placeholders OrientDB parses slowly
  const inserts = rows.map((row, r) => {
    params[`r${r}`] = row;
    return `INSERT INTO ${MESSAGE_CLASS} CONTENT :r${r};`;
  });
  // per minute: a row per (channel, service, level, type), and a total per channel that the
  // unfiltered chart reads (a day of minutes is 1440 totals instead of every combination)
  const tally = new CountTally(writer, budget);
  for (const row of rows) {
    tally.add(minuteOf(row.ts), row.channel, { service: row.service, level: row.level ?? '', type: row.type });
  }
  const bumps = tally.statements(params);
  const script = [
    'BEGIN;',
    `LET $existing = SELECT uid FROM ${MESSAGE_CLASS} WHERE uid IN :uids;`,
    'IF ($existing.size() > 0) {',
    '  ROLLBACK;',
    '  RETURN $existing;',
    '}',
    ...inserts,
    ...bumps,
    'COMMIT;',
    `RETURN '${COMMITTED}';`,
  ].join('\n');
  return { script, params };
}
