// KafkaPublisher sends up to four produce requests at once on one idempotent producer. The client's
// 1.x line (1.35) could not: it numbered an idempotent producer's batches when it built a request and
// counted them only when the reply came, so two requests in flight to one partition failed ("Producing
// messages failed", checked here with 1.35) and the publisher had to send one at a time. This test
// drives the plain client (not the code under test) the way the publisher now does and checks that
// Kafka stored every message exactly once; it fails on 1.35 and passes on 2.x.
import { Admin, Producer, ProduceAcks, type GenericError } from '@platformatic/kafka';
import { kafkaBrokers, testPrefix } from '@mupets/testkit';
import { readKafkaTopic } from './helpers';

const ROUNDS = 20;
const CONCURRENT = 4;

test('@platformatic/kafka: concurrent requests of one idempotent producer to one partition store every message once', async () => {
  const bootstrapBrokers = kafkaBrokers().split(',');
  const topic = `${testPrefix(__filename).replace(/[^a-zA-Z0-9._-]/g, '.')}inflight`;
  const admin = new Admin({ clientId: 'test-inflight', bootstrapBrokers });
  const producer = new Producer({
    clientId: 'test-inflight',
    bootstrapBrokers,
    idempotent: true,
    acks: ProduceAcks.ALL,
  });
  try {
    await admin.createTopics({ topics: [topic], partitions: 1, replicas: -1 }).catch((error: GenericError) => {
      if (!error.findBy?.('apiId', 'TOPIC_ALREADY_EXISTS')) {
        throw error;
      }
    });
    let sent = 0;
    for (let round = 0; round < ROUNDS; round++) {
      const requests = [];
      for (let i = 0; i < CONCURRENT; i++) {
        const value = Buffer.from(JSON.stringify({ id: `${round}-${i}` }));
        requests.push(producer.send({ messages: [{ topic, partition: 0, value }] }));
        sent += 1;
      }
      await Promise.all(requests);
    }
    const stored = await readKafkaTopic(kafkaBrokers(), topic);
    expect(sent).toBe(ROUNDS * CONCURRENT);
    const ids = stored.map((record) => (record.envelope as unknown as { id: string }).id);
    expect(new Set(ids).size).toBe(sent);
    expect(ids).toHaveLength(sent);
  } finally {
    await producer.close();
    await admin.close();
  }
});
