import Redis from 'ioredis';
import type { Envelope } from '@mupets/broker';
import { orientDbServerConfig, redisUrl, testDatabase, testPrefix, waitFor } from '@mupets/testkit';
import {
  archiveFor,
  brokerFor,
  mixedMessage,
  readStream,
  startArchiverProcess,
  storedIds,
  waitForStored,
  type ArchiverProcess,
  type OrientTarget,
} from './helpers';

function target(): OrientTarget {
  return { ...orientDbServerConfig(), database: testDatabase(__filename) };
}

const running: ArchiverProcess[] = [];
afterEach(async () => {
  await Promise.all(running.splice(0).map((p) => p.kill('SIGKILL')));
});

async function start(prefix: string, orient: OrientTarget, env: Record<string, string> = {}): Promise<ArchiverProcess> {
  const proc = await startArchiverProcess(redisUrl(), prefix, orient, env);
  running.push(proc);
  return proc;
}

describe('log-archiver', () => {
  it('archives 10k mixed messages from both channels: exactly 10k records, fields as published', async () => {
    const prefix = testPrefix(__filename);
    const orient = target();
    await start(prefix, orient);
    const broker = brokerFor(redisUrl(), prefix);
    const published: Array<{ channel: string; id: string; input: ReturnType<typeof mixedMessage> }> = [];
    try {
      const inputs = Array.from({ length: 10_000 }, (_, i) => mixedMessage(i));
      const logs = inputs.filter((_, i) => i % 4 !== 3);
      const events = inputs.filter((_, i) => i % 4 === 3);
      await Promise.all([
        broker
          .publish('logs', logs)
          .then((ids) => ids.forEach((id, k) => published.push({ channel: 'logs', id, input: logs[k]! }))),
        broker
          .publish('events', events)
          .then((ids) => ids.forEach((id, k) => published.push({ channel: 'events', id, input: events[k]! }))),
      ]);
    } finally {
      await broker.close();
    }
    const ids = await waitForStored(orient, 10_000);
    expect(new Set(ids).size).toBe(10_000);

    // every published envelope is there, mapped as documented (README: "What the archive stores")
    const envelopes = new Map<string, Envelope>();
    for (const channel of ['logs', 'events']) {
      for (const { fields } of await readStream(redisUrl(), `${prefix}${channel}`)) {
        const envelope = JSON.parse(fields[1]!) as Envelope;
        if (envelope.source.service !== 'log-archiver') {
          envelopes.set(`${channel}/${envelope.id}`, envelope);
        }
      }
    }
    expect(new Set(ids)).toEqual(new Set(envelopes.keys()));
    const archive = archiveFor(orient);
    try {
      for (const { channel, id, input } of published.filter((_, k) => k % 499 === 0)) {
        const uid = [...envelopes.entries()].find(([, e]) => e.channel === channel && e.data?.i === input.data?.i)![0];
        const envelope = envelopes.get(uid)!;
        const record = await archive.findById(channel, envelope.id);
        expect(record).toEqual({
          id: envelope.id,
          channel,
          brokerId: id,
          ts: envelope.ts,
          type: input.type,
          service: input.source.service,
          instance: input.source.instance,
          host: envelope.source.host,
          level: input.level,
          message: input.message,
          data: input.data,
          cursor: expect.any(String),
        });
      }
    } finally {
      await archive.close();
    }
  });

  it('dead-letters a malformed entry and one the archive refuses, each with its reason; stores the rest', async () => {
    const prefix = testPrefix(__filename);
    const orient = target();
    const archiver = await start(prefix, orient);
    const broker = brokerFor(redisUrl(), prefix);
    const redis = new Redis(redisUrl());
    try {
      await broker.publish(
        'logs',
        Array.from({ length: 20 }, (_, i) => mixedMessage(i)),
      );
      const garbageId = await redis.xadd(`${prefix}logs`, '*', 'e', '{"not": "an envelope"');
      const refusedId = await broker.publish('logs', { ...mixedMessage(99), ts: '1969-07-20T20:17:00.000Z' });
      await broker.publish(
        'logs',
        Array.from({ length: 20 }, (_, i) => mixedMessage(100 + i)),
      );
      await waitForStored(orient, 40);
      let dead: Array<{ id: string; fields: string[] }> = [];
      await waitFor(async () => (dead = await readStream(redisUrl(), `${prefix}logs.dead`)).length === 2, {
        timeoutMs: 30_000,
        what: 'two dead letters',
      });
      const letters = dead.map(({ fields }) => JSON.parse(fields[1]!) as Envelope);
      const byOriginal = new Map(letters.map((l) => [l.data?.originalId, l]));
      expect(byOriginal.get(garbageId)?.message).toMatch(/JSON|envelope/i);
      expect(byOriginal.get(refusedId)?.message).toMatch(/^archive refused it: ts: 1969-07-20T20:17:00.000Z precedes/);
      expect((byOriginal.get(refusedId)?.data?.envelope as Envelope).ts).toBe('1969-07-20T20:17:00.000Z');
      // nothing left pending: every entry was stored or dead-lettered, and acked
      await waitFor(async () => (await broker.stats('logs')).groups[0]?.pending === 0, { what: 'no pending entries' });
      expect(await archiver.metric('mupets_archiver_dead_lettered_total')).toBe(1);
      // the 40 published, and the archiver's own log lines (they go to the logs channel too)
      expect(await archiver.metric('mupets_archiver_archived_total')).toBeGreaterThanOrEqual(40);
    } finally {
      redis.disconnect();
      await broker.close();
    }
  });

  it('two archivers on one stream share the work and store every message once', async () => {
    const prefix = testPrefix(__filename);
    const orient = target();
    const [a, b] = await Promise.all([
      start(prefix, orient, { ARCHIVER_BATCH_SIZE: '50' }),
      start(prefix, orient, { ARCHIVER_BATCH_SIZE: '50' }),
    ]);
    const broker = brokerFor(redisUrl(), prefix);
    try {
      for (let round = 0; round < 20; round++) {
        await broker.publish(
          'logs',
          Array.from({ length: 250 }, (_, i) => mixedMessage(round * 250 + i)),
        );
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
    } finally {
      await broker.close();
    }
    const ids = await waitForStored(orient, 5000);
    expect(new Set(ids).size).toBe(5000);
    const [byA, byB] = await Promise.all([
      a.metric('mupets_archiver_archived_total'),
      b.metric('mupets_archiver_archived_total'),
    ]);
    expect(byA + byB).toBeGreaterThanOrEqual(5000); // plus their own log lines
    expect(byA).toBeGreaterThan(0);
    expect(byB).toBeGreaterThan(0);
  });

  it('on SIGTERM finishes and acks the batch in flight, then exits 0 within its deadline', async () => {
    const prefix = testPrefix(__filename);
    const orient = target();
    const archiver = await start(prefix, orient, { ARCHIVER_BATCH_SIZE: '2000', SHUTDOWN_DEADLINE_MS: '10000' });
    const broker = brokerFor(redisUrl(), prefix);
    try {
      for (let chunk = 0; chunk < 4; chunk++) {
        await broker.publish(
          'logs',
          Array.from({ length: 5000 }, (_, i) => mixedMessage(chunk * 5000 + i)),
        );
      }
      await waitFor(async () => (await archiver.metric('mupets_archiver_archived_total')) > 0, {
        timeoutMs: 60_000,
        what: 'the first batch archived',
      });
      const started = performance.now();
      const exit = await archiver.kill('SIGTERM');
      const tookMs = performance.now() - started;
      expect(exit).toEqual({ code: 0, signal: null });
      expect(tookMs).toBeLessThan(10_000 + 2000); // the configured deadline, plus process exit
      // whatever was read was committed and acked before the exit: nothing pending
      expect((await broker.stats('logs')).groups[0]?.pending).toBe(0);
      expect((await storedIds(orient)).length).toBeGreaterThan(0);
      // and the rest is archived by the next one, each message once
      await start(prefix, orient);
      expect(new Set(await waitForStored(orient, 20_000)).size).toBe(20_000);
    } finally {
      await broker.close();
    }
  });
});
