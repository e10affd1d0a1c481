import type { DepartmentKey } from './types.ts';

/** Kind of a failed department call, which decides whether the worker rejects, retries or dead-letters it. */
export type FailureKind = 'business' | 'transient' | 'permanent';

export abstract class DepartmentError extends Error {
  abstract readonly kind: FailureKind;

  constructor(
    readonly department: DepartmentKey,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = new.target.name;
  }
}

/** The department refused the item (不予受理): not retried; the item is rejected. */
export class BusinessRefusalError extends DepartmentError {
  readonly kind = 'business';

  constructor(
    department: DepartmentKey,
    /** Chinese reason shown to the applicant. */
    readonly reason: string,
    /** Legal basis of the refusal. */
    readonly legalBasis: string,
    readonly departmentCode: string,
  ) {
    super(department, `department refused the item with code ${departmentCode}`);
  }
}

/** Network failure, timeout, 5xx or a department system error: retried with backoff. */
export class TransientDepartmentError extends DepartmentError {
  readonly kind = 'transient';
}

/** Bad configuration or a contract violation: retrying cannot help, so the item goes to dead letters. */
export class PermanentDepartmentError extends DepartmentError {
  readonly kind = 'permanent';
}

/**
 * The department's circuit breaker rejected the call without sending it, because the
 * department failed too often recently or another call is probing whether it recovered.
 */
export class BreakerOpenError extends Error {
  override name = 'BreakerOpenError';

  constructor(
    readonly department: string,
    /** How long the caller should wait before trying again, in milliseconds. */
    readonly retryAfterMs: number,
    /** `open` while the reset timeout runs, `half-open` while another call is the probe. */
    readonly state: 'open' | 'half-open',
  ) {
    super(`circuit breaker of department ${department} is ${state}; retry in ${retryAfterMs} ms`);
  }
}

/** A callback whose signature does not verify. */
export class CallbackAuthError extends Error {
  override name = 'CallbackAuthError';
}

/** A callback body that cannot be parsed or lacks required fields. */
export class CallbackFormatError extends Error {
  override name = 'CallbackFormatError';
}
