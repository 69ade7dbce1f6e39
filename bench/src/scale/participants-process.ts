/**
 * The saga-scale benchmark's participants, in a process of their own: each command is answered
 * after `stepMs` (a service waiting on I/O), many at once (key concurrency).
 * argv: brokers prefix stepMs
 */
import { delay } from '@cascade/core';
import { createSagaParticipant, sagaTopics } from '@cascade/saga';
import { scaleCommands, scaleParticipants } from './shared.js';

const [brokers = '', prefix = '', stepMsText = '0'] = process.argv.slice(2);
const stepMs = Number(stepMsText);
const kafka = { brokers: brokers.split(','), clientId: 'scale-participants' };
const topics = sagaTopics(prefix);
/** Handler runs by saga and participant: more than one is a command handled again. */
const invoked = new Map<string, number>();
const participants = scaleParticipants.map((participant) =>
  createSagaParticipant({
    kafka,
    participant,
    topics,
    concurrency: 'key',
    maxConcurrency: 1_000,
    maxInFlight: 20_000,
    commands: {
      [scaleCommands[participant]]: {
        invoke: async (_payload, context) => {
          const key = `${context.sagaId}/${participant}`;
          invoked.set(key, (invoked.get(key) ?? 0) + 1);
          await delay(stepMs);
          return { ok: true };
        },
        compensate: () => ({}),
      },
    },
  }),
);
await Promise.all(participants.map((p) => p.start()));
process.send?.({ type: 'ready' });
process.on('message', (message: { type?: string }) => {
  if (message.type !== 'stop') return;
  const again = [...invoked.values()].filter((n) => n > 1).length;
  process.stderr.write(`[participants] ${invoked.size} commands handled, ${again} more than once\n`);
  void Promise.all(participants.map((p) => p.close())).finally(() => process.exit(0));
});
