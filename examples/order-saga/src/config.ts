/**
 * What every service of the order-saga example is told at start: where Kafka, the schema
 * registry and PostgreSQL are, the run's topic prefix, its own database schema, and the books it
 * starts with. The runner passes it as one JSON environment variable, so a service can also be
 * started by hand (see docs/examples.md).
 * @module
 */

import { type SagaTopics, sagaTopics } from '@cascade/saga';

/** The environment variable that carries a service's {@link ServiceConfig} as JSON. */
export const configVariable = 'ORDER_SAGA_CONFIG';

/** A product and how many units the inventory starts with. */
export interface StockSeed {
  readonly sku: string;
  readonly units: number;
}

/** A customer, the balance the payment service starts with, and whether their mailbox bounces. */
export interface CustomerSeed {
  readonly customerId: string;
  readonly balanceCents: number;
  /** Order notifications to this customer fail every time (they end in the DLT). */
  readonly bounces?: boolean;
}

/** Everything a service needs. */
export interface ServiceConfig {
  readonly brokers: readonly string[];
  readonly registryUrl: string;
  /** Prefix of every topic of the run. */
  readonly prefix: string;
  /** PostgreSQL connection (trust auth). */
  readonly postgres: {
    readonly host: string;
    readonly port: number;
    readonly user: string;
    readonly database: string;
  };
  /** The schema of each service: a service touches only its own. */
  readonly schemas: { readonly order: string; readonly inventory: string; readonly payment: string };
  /** The payment service's HTTP port (the order service's coordinator calls it). */
  readonly paymentPort: number;
  readonly stock: readonly StockSeed[];
  readonly customers: readonly CustomerSeed[];
  /** `debug` logs everything a service does to its stderr. @default 'warn' */
  readonly logLevel?: 'debug' | 'info' | 'warn' | 'error';
}

/** The topics of a run. */
export interface Topics {
  /** `PlaceOrder` requests (Avro), consumed by the order service. */
  readonly requests: string;
  /** Where the order service's intake dead-letters a request it cannot read. */
  readonly requestsDlt: string;
  /** `OrderEvent`s (Avro): placed, completed, cancelled. */
  readonly events: string;
  /** Where the order service's notification consumer dead-letters. */
  readonly notificationsDlt: string;
  /** Where the inventory's stock-ledger consumer dead-letters. */
  readonly ledgerDlt: string;
  /** The saga coordinator's inbox and log, and the inventory's command topic. */
  readonly saga: SagaTopics;
}

/** The topic names of the run with this prefix. */
export function topicsFor(prefix: string): Topics {
  return {
    requests: `${prefix}.order-requests`,
    requestsDlt: `${prefix}.order-requests.dlt`,
    events: `${prefix}.order-events`,
    notificationsDlt: `${prefix}.order-events.notifications.dlt`,
    ledgerDlt: `${prefix}.order-events.stock-ledger.dlt`,
    saga: sagaTopics(prefix),
  };
}

/** The saga participant reached over Kafka, and the TCC participant reached over HTTP. */
export const participants = { inventory: 'inventory', payments: 'payments' } as const;

/** Where the payment service serves its TCC resource. */
export const authorizePath = '/payments/authorize';

/** Reads the service's config from {@link configVariable}. */
export function readConfig(env: NodeJS.ProcessEnv = process.env): ServiceConfig {
  const text = env[configVariable];
  if (text === undefined || text === '') {
    throw new Error(
      `${configVariable} is not set: start services through the runner (npm run demo), or see docs/examples.md for a hand-written config.`,
    );
  }
  return JSON.parse(text) as ServiceConfig;
}
