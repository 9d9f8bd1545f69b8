/**
 * Identifiers a job spec carries.
 */
import { UUID } from '@lumino/coreutils';

/**
 * A fresh idempotency key. `crypto.randomUUID` exists only in secure
 * contexts (HTTPS or localhost); a hub served over plain HTTP falls back to
 * Lumino's UUID, built on `crypto.getRandomValues`.
 */
export function newIdempotencyKey(): string {
  return typeof crypto !== 'undefined' &&
    typeof crypto.randomUUID === 'function'
    ? crypto.randomUUID()
    : UUID.uuid4();
}
