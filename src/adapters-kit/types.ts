/**
 * The contract between the gateway core and a department adapter. Adapters import
 * only this kit; the core reaches a concrete adapter only through the composition root.
 */

export const DEPARTMENTS = ['veterans', 'police', 'hrss', 'medical'] as const;
export type DepartmentKey = (typeof DEPARTMENTS)[number];

/** A material sent with a submission: an uploaded file or a document another item produced. */
export interface OutboundDocument {
  /** Material key from the bundle, e.g. `photo` or `householdReferralLetter`. */
  material: string;
  mediaType: string;
  sha256: string;
  content: Buffer;
}

/** Everything a department needs to handle one item of a case. */
export interface SubmissionRequest {
  caseId: string;
  itemKey: string;
  /** The department's code for the item, from the bundle (e.g. `VA-CHECKIN`). */
  businessCode: string;
  /** Stable for the item's whole life; the department dedupes on it. */
  idempotencyKey: string;
  /** Gateway reference the department echoes back in results: `<caseId>.<itemKey>`. */
  reference: string;
  /** URL the department posts results to; unused by departments that are polled. */
  callbackUrl: string;
  /** The decrypted case form (personal data: never log it). */
  form: Record<string, unknown>;
  materials: OutboundDocument[];
}

export interface SubmissionReceipt {
  /** The department's receipt number (受理编号). */
  receiptNo: string;
  /** When the department's system received the item, ISO 8601 with offset. */
  receivedAt: string;
}

/** A document a department produced as the result of an item. */
export interface ResultDocument {
  /** Material key of what was produced, e.g. `householdReferralLetter`. */
  kind: string;
  /** File name shown to the applicant, Chinese. */
  name: string;
  mediaType: string;
  content: Buffer;
}

export type OutcomeStatus = 'accepted' | 'completed' | 'rejected';

/** A department's report on one item, from a callback or a status query. */
export interface ItemOutcome {
  /** The gateway reference that was sent with the submission: `<caseId>.<itemKey>`. */
  reference: string;
  receiptNo?: string;
  status: OutcomeStatus;
  /** Unique id of this report at the department, used to drop duplicates. */
  eventId: string;
  occurredAt: string;
  /** Chinese reason (理由) when rejected. */
  reason?: string;
  /** Legal basis (依据) when rejected. */
  legalBasis?: string;
  documents: ResultDocument[];
}

export interface RawCallback {
  headers: Record<string, string | string[] | undefined>;
  body: Buffer;
}

export interface DepartmentAdapter {
  readonly department: DepartmentKey;
  /** `callback`: the department posts results. `poll`: the gateway calls `queryStatus`. */
  readonly resultMode: 'callback' | 'poll';
  /** Sends one item; throws a `DepartmentError` subclass on failure. */
  submit(request: SubmissionRequest): Promise<SubmissionReceipt>;
  /**
   * Verifies and parses a callback body. Throws `CallbackAuthError` when the signature
   * does not verify and `CallbackFormatError` when the body cannot be read.
   */
  parseCallback?(raw: RawCallback): ItemOutcome[];
  /** Returns the item's latest outcome, or null while the department is still processing. */
  queryStatus?(query: {
    reference: string;
    receiptNo: string;
    idempotencyKey: string;
  }): Promise<ItemOutcome | null>;
  /** Builds the response body for an accepted callback, in the department's style. */
  acknowledgeCallback?(): { contentType: string; body: string | Buffer };
}

export interface AdapterOptions {
  baseUrl: string;
  /** Shared secret for signing requests and verifying callbacks (HMAC-SHA256). */
  secret: string;
  timeouts?: Partial<HttpTimeouts>;
}

export interface HttpTimeouts {
  connectTimeoutMs: number;
  headersTimeoutMs: number;
  bodyTimeoutMs: number;
  /** Ceiling over the whole exchange, in case a peer trickles bytes. */
  totalTimeoutMs: number;
  maxResponseBytes: number;
}
