// What every e2e run must show: each invariant of the order-saga audit, named when it fails.
import type { RunReport } from '@cascade/example-order-saga/runner';
import { expect } from 'vitest';

/** Every check, so a failure names the invariant and its numbers. */
export function expectBalanced(report: RunReport): void {
  expect(report.checks.filter((check) => !check.ok)).toEqual([]);
  expect(report.ok).toBe(true);
  const { books } = report;
  expect(books.orders.completed + books.orders.cancelled).toBe(report.orders);
  expect(books.counts.captured).toBe(books.orders.completed);
  expect(books.counts.shipped).toBe(books.orders.completed);
  for (const sku of books.stock) {
    expect(sku.initial - sku.shipped).toBe(sku.onHand);
    expect(sku.reserved).toBe(0);
  }
  expect(books.balances.initial - books.balances.captured).toBe(books.balances.final);
  expect(books.balances.held).toBe(0);
  expect(books.balances.captured).toBe(books.balances.completedAmount);
}
