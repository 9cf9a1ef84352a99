import { BrokerBackpressureError, BrokerClosedError, BrokerUnavailableError } from './errors';
import { silentLogger } from './logger';
import {
  confirm,
  fail,
  publishQueueOptions,
  PublishQueue,
  type BuildQueued,
  type PublishQueueOptions,
  type Queued,
} from './publish-queue';

interface Item extends Queued {
  readonly text: string;
}

const build: BuildQueued<string, Item> = (text, seq, deadline, resolve, reject) => ({
  text,
  seq,
  deadline,
  done: false,
  resolve,
  reject,
});

/** A backend that sends nothing by itself: the test settles what `pump` handed it. */
class FakeBackend extends PublishQueue<Item> {
  readonly sent: Item[][] = [];
  open = true;

  constructor(options: Partial<PublishQueueOptions> = {}) {
    super('Fake', { maxBuffered: 10, timeoutMs: 30_000, onFull: 'reject', ...options }, silentLogger);
  }

  publish(texts: readonly string[]): Promise<string[]> {
    return this.enqueue(texts, build);
  }

  publishOne(text: string): Promise<string> {
    return this.enqueueOne(text, build);
  }

  /** The backend confirms a batch it was handed. */
  store(batch: Item[]): void {
    batch.forEach((item) => confirm(item, `id-${item.text}`));
    this.releaseWaiters();
    this.settleIdle();
  }

  /** The batch failed on the way: it is queued again, and goes after a pause. */
  lose(batch: Item[]): void {
    this.requeue(batch);
    this.retryLater();
  }

  queuedTexts(): string[] {
    return this.queue.slice(this.head).map((item) => item.text);
  }

  protected inFlight(): number {
    return this.sent.flat().filter((item) => !item.done).length;
  }

  protected pump(): void {
    if (this.open && this.head < this.queue.length) {
      this.sent.push(this.take(this.queue.length));
    }
  }
}

const tick = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));

test('what is published in one tick goes as one batch; each publish resolves with its ids once stored', async () => {
  const queue = new FakeBackend();
  const many = queue.publish(['a', 'b']);
  const one = queue.publishOne('c');
  await tick();
  expect(queue.sent.map((batch) => batch.map((item) => item.text))).toEqual([['a', 'b', 'c']]);
  expect(queue.buffered).toBe(3);
  queue.store(queue.sent[0]!);
  await expect(many).resolves.toEqual(['id-a', 'id-b']);
  await expect(one).resolves.toBe('id-c');
  expect(queue.buffered).toBe(0);
  await expect(queue.drain(10)).resolves.toBe(true);
});

test('a lost batch is queued again before what came later, in publish order, and stored once', async () => {
  const queue = new FakeBackend();
  const first = queue.publish(['a', 'b']);
  await tick();
  queue.open = false;
  const later = queue.publishOne('c');
  await tick();
  queue.lose(queue.sent[0]!);
  expect(queue.queuedTexts()).toEqual(['a', 'b', 'c']);
  queue.open = true;
  await new Promise((resolve) => setTimeout(resolve, 50)); // the retry pause
  expect(queue.sent[1]!.map((item) => item.text)).toEqual(['a', 'b', 'c']);
  queue.store(queue.sent[1]!);
  await expect(first).resolves.toEqual(['id-a', 'id-b']);
  await expect(later).resolves.toBe('id-c');
});

test('a message queued again after its deadline is rejected as not stored, naming the server', async () => {
  const queue = new FakeBackend({ timeoutMs: 20 });
  const publish = queue.publishOne('late');
  await tick();
  await new Promise((resolve) => setTimeout(resolve, 40));
  queue.open = false;
  queue.lose(queue.sent[0]!);
  await expect(publish).rejects.toThrow(
    new BrokerUnavailableError('Fake unavailable for 20 ms: message not stored (or not confirmed)'),
  );
  expect(queue.queuedTexts()).toEqual([]);
  expect(queue.buffered).toBe(0);
});

test('a full buffer rejects at once in reject mode; in wait mode the publish goes once there is room', async () => {
  const rejecting = new FakeBackend({ maxBuffered: 2 });
  void rejecting.publish(['a', 'b']);
  await expect(rejecting.publishOne('c')).rejects.toThrow(
    new BrokerBackpressureError('publish buffer full (2/2 messages waiting for Fake)'),
  );
  await expect(rejecting.publish(['x', 'y', 'z'])).rejects.toThrow(/can never fit the publish buffer of 2/);

  const waiting = new FakeBackend({ maxBuffered: 2, onFull: 'wait' });
  const stored = waiting.publish(['a', 'b']);
  const third = waiting.publishOne('c');
  await tick();
  expect(waiting.sent.flat().map((item) => item.text)).toEqual(['a', 'b']);
  waiting.store(waiting.sent[0]!);
  await stored;
  await tick();
  await tick();
  expect(waiting.sent[1]!.map((item) => item.text)).toEqual(['c']);
  waiting.store(waiting.sent[1]!);
  await expect(third).resolves.toBe('id-c');
});

test('after stopIntake nothing new is accepted; a message is settled once, by whichever comes first', async () => {
  const queue = new FakeBackend();
  const pending = queue.publishOne('a');
  await tick();
  queue.stopIntake();
  await expect(queue.publishOne('b')).rejects.toBeInstanceOf(BrokerClosedError);
  const item = queue.sent[0]![0]!;
  fail(item, new Error('first'));
  confirm(item, 'too late');
  await expect(pending).rejects.toThrow('first');
});

test.each([
  [{ publishBatchSize: 0 }, 'publishBatchSize must be an integer from 1'],
  [{ maxBufferedMessages: 2.5 }, 'maxBufferedMessages must be an integer from 1'],
  [{ publishTimeoutMs: -1 }, 'publishTimeoutMs must be an integer from 1'],
])('publish settings %p are refused: %s', (settings, message) => {
  expect(() => publishQueueOptions(settings, 500)).toThrow(message);
});

test('publish settings take their defaults', () => {
  expect(publishQueueOptions({}, 500)).toEqual({
    maxBuffered: 10_000,
    timeoutMs: 30_000,
    onFull: 'reject',
    batchSize: 500,
  });
});
