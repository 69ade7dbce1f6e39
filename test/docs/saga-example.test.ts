import { run } from '@cascade/snippets/saga';
import { expect, it } from 'vitest';

it('runs the saga example from the docs: a declined card releases the reservation', () => {
  expect(run()).toEqual({
    status: 'compensated',
    commands: [
      'invoke inventory {"sku":"SKU-42","quantity":1}',
      'invoke payment {"amountCents":1999,"reservationId":"r-7"}',
      'compensate inventory {"reservationId":"r-7"}',
    ],
  });
});
