// docs/tcc.md quotes this file. Run it: npm run build && node examples/snippets/dist/tcc.js
import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import {
  BusinessFailure,
  createSagaCoordinator,
  createSagaParticipant,
  createTccGuard,
  defineSaga,
  ensureSagaTopics,
  httpTccParticipant,
  memoryGuardStore,
  replyType,
  type SagaOutcome,
  sagaTopics,
  type TccHandlers,
  tccCommands,
  tccHttpHandler,
} from '@cascade/saga';

interface Booking {
  readonly bookingId: string;
  readonly card: string;
  readonly amountCents: number;
  readonly seat: string;
}

// A TCC saga: authorize the card (over HTTP) and hold the seat (over Kafka) in parallel, issue
// the ticket, and only then confirm both; if anything fails, cancel every reservation made.
const bookSeat = defineSaga<Booking>('book-seat')
  .parallel((group) =>
    group
      .tcc('authorize', {
        participant: 'payments',
        try: ({ input }) => ({ card: input.card, amountCents: input.amountCents }),
        reply: replyType<{ holdId: string }>(),
        reservationTtlMs: 60_000,
        timeoutMs: 5_000,
      })
      .tcc('hold-seat', {
        participant: 'seats',
        try: ({ input }) => ({ seat: input.seat }),
        reservationTtlMs: 60_000,
        timeoutMs: 5_000,
      }),
  )
  .step('issue-ticket', {
    run: ({ input, results }) => ({ ticket: `${input.seat}/${results.authorize.holdId}` }),
  })
  .build();

/** What each participant's books show at the end. */
interface Books {
  readonly payments: Record<string, string>;
  readonly seats: Record<string, string>;
}

function paymentHandlers(books: Record<string, string>): TccHandlers {
  return {
    try: (payload, context) => {
      const { card, amountCents } = payload as { card: string; amountCents: number };
      if (amountCents > 50_000)
        throw new BusinessFailure('OverLimit', `${card}: ${amountCents} is over the limit`);
      books[context.transaction] = `held ${amountCents}`;
      return { holdId: `h-${context.transaction}` };
    },
    confirm: (_payload, context) => {
      books[context.transaction] = books[context.transaction]?.replace('held', 'captured') ?? 'captured';
    },
    cancel: (_payload, context) => {
      books[context.transaction] = 'released';
    },
  };
}

function seatHandlers(books: Record<string, string>): TccHandlers {
  return {
    try: (payload) => {
      const { seat } = payload as { seat: string };
      books[seat] = 'held';
      return { seat };
    },
    confirm: (_payload, context) => {
      const seat = (context.tried?.payload as { seat: string } | undefined)?.seat;
      if (seat !== undefined) books[seat] = 'sold';
    },
    // The guard runs a cancel only after a try; a cancel that overtook the try (an empty
    // rollback) is remembered instead, and that try is refused when it comes.
    cancel: (_payload, context) => {
      const seat = (context.tried?.payload as { seat: string } | undefined)?.seat;
      if (seat !== undefined) books[seat] = 'free';
    },
  };
}

/** Books two seats, one paid by a card over its limit, and returns the outcomes and the books. */
export async function run(cluster: {
  brokers: string[];
}): Promise<{ outcomes: Record<string, SagaOutcome>; books: Books }> {
  const kafka = { brokers: cluster.brokers, clientId: 'tcc-example' };
  const topics = sagaTopics(`tcc-example-${Date.now()}`);
  await ensureSagaTopics(kafka, topics, { partitions: 2, participants: ['seats'] });
  const books: Books = { payments: {}, seats: {} };

  // The payment service: TCC over REST, behind a guard (use postgresGuardStore in production).
  await using payments = tccHttpHandler(paymentHandlers(books.payments), {
    guard: createTccGuard({ store: memoryGuardStore() }),
    basePath: '/payments/authorize',
  });
  const server = createServer(payments).listen(0, '127.0.0.1');
  await once(server, 'listening');
  const paymentsUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}/payments/authorize`;

  // The seat service: TCC over Kafka commands.
  await using seats = createSagaParticipant({
    kafka,
    participant: 'seats',
    topics,
    commands: {
      'hold-seat': tccCommands(seatHandlers(books.seats), {
        guard: createTccGuard({ store: memoryGuardStore() }),
      }),
    },
  });
  await seats.start();

  await using coordinator = createSagaCoordinator({
    kafka,
    sagas: [bookSeat],
    topics,
    httpParticipants: { payments: httpTccParticipant({ url: paymentsUrl }) },
  });
  await coordinator.start();

  const outcomes: Record<string, SagaOutcome> = {};
  for (const booking of [
    { bookingId: 'b-1', card: 'visa-1', amountCents: 12_000, seat: '12A' },
    { bookingId: 'b-2', card: 'visa-2', amountCents: 90_000, seat: '12B' },
  ]) {
    const sagaId = await coordinator.begin(bookSeat, booking, { sagaId: booking.bookingId });
    outcomes[sagaId] = await coordinator.result(sagaId);
  }
  server.close();
  return { outcomes, books };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const brokers = (process.env.KAFKA_BROKERS ?? '127.0.0.1:9092').split(',');
  console.log(JSON.stringify(await run({ brokers }), null, 2));
}
