/**
 * A circuit breaker (opossum) per saga participant, fed by what the coordinator sees: a reply
 * (success or business failure: the participant is up) counts as a success; an error reply or a
 * step timeout counts as a failure. The engine parks steps of a participant whose breaker is open.
 * @module
 */

import type { Logger } from '@cascade/core';
import CircuitBreaker from 'opossum';
import type { InboxEvent } from './codec.js';
import type { SagaDefinition } from './definition.js';
import type { SagaState } from './state.js';

/** Breaker settings; see `SagaCoordinatorOptions.circuitBreaker`. */
export interface BreakerSettings {
  readonly errorThresholdPercentage?: number;
  readonly volumeThreshold?: number;
  readonly resetTimeoutMs?: number;
}

/** The breakers of a coordinator's participants. */
export class ParticipantBreakers {
  readonly #settings: BreakerSettings | false;
  readonly #logger: Logger;
  readonly #breakers = new Map<string, CircuitBreaker<[boolean], void>>();

  constructor(settings: BreakerSettings | false, logger: Logger) {
    this.#settings = settings;
    this.#logger = logger;
  }

  /** Whether a participant's breaker is open (half-open lets attempts through, to test it). */
  readonly isOpen = (participant: string): boolean => this.#breakers.get(participant)?.opened === true;

  /** Records what an inbox event says about a participant's health, before it is decided. */
  observe(definition: SagaDefinition, state: SagaState, event: InboxEvent): void {
    if (event.type === 'reply') {
      const participant = definition.steps.get(event.step)?.participant;
      if (participant !== undefined) this.#record(participant, event.outcome !== 'error');
      return;
    }
    if (event.type !== 'timer') return;
    const timer = state.timers[event.timerId];
    if (timer?.kind !== 'step-timeout' || timer.step === undefined) return;
    const outstanding = state.steps[timer.step]?.outstanding;
    if (
      outstanding === undefined ||
      outstanding.phase !== timer.phase ||
      outstanding.attempt !== timer.attempt
    )
      return;
    const participant = definition.steps.get(timer.step)?.participant;
    if (participant !== undefined) this.#record(participant, false);
  }

  /** Stops the breakers' timers. */
  shutdown(): void {
    for (const breaker of this.#breakers.values()) breaker.shutdown();
    this.#breakers.clear();
  }

  #record(participant: string, ok: boolean): void {
    if (this.#settings === false) return;
    let breaker = this.#breakers.get(participant);
    if (breaker === undefined) {
      breaker = new CircuitBreaker(
        async (success: boolean) => {
          if (!success) throw new Error(`participant ${participant} failed`);
        },
        {
          timeout: false,
          errorThresholdPercentage: this.#settings.errorThresholdPercentage ?? 50,
          volumeThreshold: this.#settings.volumeThreshold ?? 5,
          resetTimeout: this.#settings.resetTimeoutMs ?? 10_000,
          name: participant,
        },
      );
      breaker.on('open', () =>
        this.#logger.warn('Participant circuit opened: its steps are parked.', { participant }),
      );
      breaker.on('close', () => this.#logger.info('Participant circuit closed.', { participant }));
      this.#breakers.set(participant, breaker);
    }
    breaker.fire(ok).catch(() => undefined);
  }
}
