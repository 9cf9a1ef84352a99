import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { assertKafkaInstalled, KAFKA_VERSION, kafkaLibsDir } from './kafka-server';

test('a missing java fails at once with the command that installs it', () => {
  const emptyPath = mkdtempSync(join(tmpdir(), 'empty-path-'));
  expect(() => assertKafkaInstalled({ ...process.env, PATH: emptyPath })).toThrow(
    'java is not installed: Kafka 4.1.2 needs a Java 17+ runtime: run `apt-get install -y openjdk-17-jre-headless`',
  );
});

test('missing jars fail at once, naming the directory and the command that fetches them', () => {
  const emptyCache = mkdtempSync(join(tmpdir(), 'empty-cache-'));
  const env = { ...process.env, MUPETS_CACHE: emptyCache };
  expect(kafkaLibsDir(env)).toBe(join(emptyCache, 'kafka-4.1.2', 'libs'));
  expect(() => assertKafkaInstalled(env)).toThrow(
    `the Kafka 4.1.2 jars are not in ${emptyCache}/kafka-4.1.2/libs: run \`./scripts/fetch-kafka.sh\``,
  );
  // scripts/test.sh fetches them before jest runs
  expect(assertKafkaInstalled()).toBe(kafkaLibsDir());
});

test('the harness runs the version that scripts/fetch-kafka.sh fetches', () => {
  const script = readFileSync(resolve(__dirname, '../../../scripts/fetch-kafka.sh'), 'utf8');
  expect(/^KAFKA_VERSION=(\S+)$/m.exec(script)?.[1]).toBe(KAFKA_VERSION);
});
