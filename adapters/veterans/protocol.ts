/**
 * Wire format of the veterans affairs (退役军人事务部门) application API: REST with JSON
 * bodies in snake_case. Requests and webhook callbacks carry the same signature header,
 * `t=<unix seconds>,v1=<hex>`, an HMAC-SHA256 over `<t>.<raw body>` with the shared secret.
 */

export const APPLICATIONS_PATH = '/api/v1/applications';

/** Header names in lower case, as Node reports incoming headers. */
export const SIGNATURE_HEADER = 'x-veterans-signature';
export const IDEMPOTENCY_HEADER = 'idempotency-key';

/** A 422 error whose code starts with this prefix is a refusal (不予受理), not a contract error. */
export const REFUSAL_CODE_PREFIX = 'refused_';

export const BUSINESS_CODES = {
  checkIn: 'VA-CHECKIN',
  lumpSumGrant: 'VA-GRANT',
  trainingEligibility: 'VA-TRAINING',
} as const;

export interface MaterialPayload {
  /** Material key from the bundle, e.g. `dischargeCertificate`. */
  material: string;
  media_type: string;
  sha256: string;
  content_base64: string;
}

/** Identity of the applicant; check-in adds sex and birth date. */
export interface ApplicantPayload {
  name: string;
  id_type: string;
  id_number: string;
  sex?: string;
  birth_date?: string;
}

export interface ServicePayload {
  /** `conscript` (义务兵) or `nco` (军士). */
  category: string;
  placement: string;
  discharge_date: string;
  reserve_registration: { completed: boolean; date?: string };
}

export interface BankAccountPayload {
  card_number: string;
  bank_name: string;
}

export interface EmploymentPayload {
  trade: string;
  preferred_location?: string;
  expected_monthly_salary_yuan?: number;
  wants_entrepreneurship_guidance?: boolean;
}

export interface ApplicationBody {
  business_code: string;
  /** Gateway reference `<caseId>.<itemKey>`, echoed in every callback. */
  reference: string;
  callback_url: string;
  applicant: ApplicantPayload;
  service?: ServicePayload;
  bank_account?: BankAccountPayload;
  employment?: EmploymentPayload;
  materials: MaterialPayload[];
}

export interface ApplicationReceipt {
  receipt_no: string;
  /** ISO 8601 with offset. */
  received_at: string;
}

export interface ErrorBody {
  error: {
    code: string;
    /** Chinese for refusals, since the platform shows it to the applicant. */
    message: string;
    legal_basis?: string;
    /** Path of the invalid request field, for `invalid_request`. */
    field?: string;
  };
}

export type CallbackStatus = 'accepted' | 'completed' | 'rejected';

export interface CallbackDocument {
  kind: string;
  name: string;
  media_type: string;
  content_base64: string;
}

export interface CallbackBody {
  event_id: string;
  reference: string;
  receipt_no: string;
  status: CallbackStatus;
  /** ISO 8601 with offset. */
  occurred_at: string;
  reason?: string;
  legal_basis?: string;
  documents: CallbackDocument[];
}
