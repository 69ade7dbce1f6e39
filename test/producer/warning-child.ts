// Run by warnings.test.ts in a child process: a producer's whole life, using only Cascade.
import { createKafkaClient } from '@cascade/kafkajs/internal';
import { createProducer } from '@cascade/producer';
import { string } from '@cascade/schema';

const brokers = (process.env.KAFKA_BROKERS ?? '').split(',');
const topic = process.env.TOPIC ?? '';
const admin = createKafkaClient({ brokers }).admin();
await admin.connect();
await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true });
await admin.disconnect();
const producer = createProducer({ brokers, value: string() });
await Promise.all(Array.from({ length: 100 }, (_, i) => producer.send({ topic, value: `v${i}` })));
await producer.close();
process.stdout.write('done\n');
