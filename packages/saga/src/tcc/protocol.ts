/**
 * The TCC wire contract shared by the coordinator's HTTP adapter and the participant SDK.
 *
 * Over HTTP (the Try-Confirm/Cancel REST model):
 * - **try**: `POST <url>` with the try payload as JSON. Headers: {@link tccHeaders}. Success is
 *   `201` (or `200`) with `Location: <reservation uri>` and a JSON body
 *   `{ "participantLink": { "uri": "<reservation uri>", "expires": "<ISO-8601>" }, "result": <any> }`.
 *   A business refusal is `409` or `422` with `{ "type": "...", "message": "..." }`.
 * - **confirm**: `PUT <reservation uri>` with `Content-Type: application/tcc+json` and the confirm
 *   payload. `2xx` is confirmed; `404` / `410` mean the participant has cancelled the reservation
 *   (it expired): a heuristic outcome.
 * - **cancel**: `DELETE <reservation uri>`. `2xx`, `404`, `405` and `410` all count as cancelled.
 *
 * A reservation a Cascade participant makes lives at `<url>/<transaction>/<branch>` (each part
 * URI-encoded), so a coordinator that never got the try's answer can still cancel it.
 *
 * Over Kafka, TCC uses the saga command and reply records: try is phase `invoke`, cancel is
 * phase `compensate`, confirm is phase `confirm`; a try command carries `reservationTtlMs`, and
 * its reply may carry `expiresAt` (epoch ms).
 * @module
 */

/** Request headers the coordinator sends on every TCC call. */
export const tccHeaders = {
  /** The same for every attempt of one phase of one step: `<saga id>/<step>/<phase>`. */
  idempotencyKey: 'idempotency-key',
  /** The global transaction: the saga id. */
  transaction: 'cascade-transaction',
  /** The branch within it: the step name. */
  branch: 'cascade-branch',
  /** How long the participant should hold the reservation, in ms (try only). */
  reservationTtl: 'cascade-reservation-ttl-ms',
} as const;

/** The media type of a confirm request. */
export const tccMediaType = 'application/tcc+json';

/** The conventional reservation URI of a Cascade participant mounted at `url`. */
export function reservationUri(url: string, transaction: string, branch: string): string {
  return `${url.replace(/\/+$/, '')}/${encodeURIComponent(transaction)}/${encodeURIComponent(branch)}`;
}

/** The body of a successful try. */
export interface TryResponseBody {
  readonly participantLink: { readonly uri: string; readonly expires: string };
  readonly result?: unknown;
}

/** The body of a refusal or an error. */
export interface TccErrorBody {
  readonly type: string;
  readonly message: string;
  readonly details?: unknown;
}
