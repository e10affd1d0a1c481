/**
 * The one place that decides what a failed department call means for the item:
 *
 * - a business refusal (不予受理) rejects the item with the department's reason and legal
 *   basis, and is never retried;
 * - a transient failure (network, timeout, 5xx, department system error, cut-off reply)
 *   is retried with backoff until the attempts run out, then dead-lettered;
 * - a permanent failure (contract violation, bad configuration, refused DOCTYPE, HTTP
 *   4xx or 3xx) goes to the dead letters at once, because the same call would fail again;
 * - an open circuit breaker pauses the department's queue without spending an attempt.
 *
 * Errors that are not `DepartmentError`s are classified by their Node.js or undici error
 * code when they have one. Any other error is retried, so a bug fails after the
 * attempts run out and lands in the dead letters rather than being lost.
 */
import { BreakerOpenError, BusinessRefusalError, DepartmentError } from './errors.ts';

export type FailureDecision =
  | {
      action: 'reject';
      /** Chinese reason shown to the applicant. */
      reason: string;
      legalBasis: string;
      departmentCode: string;
      summary: string;
    }
  | { action: 'retry'; kind: 'transient' | 'unknown'; summary: string }
  | { action: 'dead-letter'; kind: 'permanent'; summary: string }
  | { action: 'pause'; retryAfterMs: number; summary: string };

/** Socket-level error codes of Node.js that mean the peer or the path failed, not the request. */
const NETWORK_ERROR_CODES = new Set([
  'ECONNRESET',
  'ECONNREFUSED',
  'ECONNABORTED',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EAI_AGAIN',
  'EHOSTUNREACH',
  'ENETUNREACH',
]);

/** Maximum length of an error summary kept in logs and item records. */
const MAX_SUMMARY_LENGTH = 500;

/** Fallback pause when an opossum rejection arrives without the wrapper's retry time. */
const DEFAULT_PAUSE_MS = 1_000;

export function classifyFailure(error: unknown): FailureDecision {
  const summary = summarizeError(error);
  if (error instanceof BusinessRefusalError) {
    const { reason, legalBasis, departmentCode } = error;
    return { action: 'reject', reason, legalBasis, departmentCode, summary };
  }
  if (error instanceof BreakerOpenError)
    return { action: 'pause', retryAfterMs: error.retryAfterMs, summary };
  if (errorCode(error) === 'EOPENBREAKER')
    return { action: 'pause', retryAfterMs: DEFAULT_PAUSE_MS, summary };
  if (error instanceof DepartmentError) {
    return error.kind === 'permanent'
      ? { action: 'dead-letter', kind: 'permanent', summary }
      : { action: 'retry', kind: 'transient', summary };
  }
  // BullMQ's marker for a job that must not run again; matched by name, as BullMQ does.
  if (error instanceof Error && error.name === 'UnrecoverableError') {
    return { action: 'dead-letter', kind: 'permanent', summary };
  }
  if (isNetworkError(error)) return { action: 'retry', kind: 'transient', summary };
  return { action: 'retry', kind: 'unknown', summary };
}

/**
 * Returns whether a failure indicates that the department is unavailable, so that it
 * counts toward opening its breaker. A refusal or a permanent error comes from a working
 * system (or is a fault of the gateway), and an unknown error is most likely a gateway
 * bug, so none of them counts.
 */
export function countsAsBreakerFailure(error: unknown): boolean {
  if (error instanceof BreakerOpenError) return false;
  if (error instanceof DepartmentError) return error.kind === 'transient';
  return isNetworkError(error);
}

/** Returns `<name>: <message>` of an error, cut to a length fit for a log line. */
export function summarizeError(error: unknown): string {
  const text = error instanceof Error ? `${error.name}: ${error.message}` : `thrown value: ${String(error)}`;
  return text.length > MAX_SUMMARY_LENGTH ? `${text.slice(0, MAX_SUMMARY_LENGTH - 1)}…` : text;
}

function isNetworkError(error: unknown): boolean {
  const code = errorCode(error);
  if (code === undefined) return false;
  return NETWORK_ERROR_CODES.has(code) || code.startsWith('UND_ERR_');
}

function errorCode(error: unknown): string | undefined {
  if (typeof error !== 'object' || error === null) return undefined;
  const code = (error as { code?: unknown }).code;
  return typeof code === 'string' ? code : undefined;
}
