/**
 * Wire format of the medical insurance (医疗保障部门) service, in the style of the national
 * medical insurance information platform: every message is a JSON envelope with a
 * transaction code (`infno`), a 30-character message id, area codes and signature
 * fields. Responses carry `infcode`, `err_msg` and `output`.
 */
import { sha256Hex } from '../../src/adapters-kit/index.ts';

export const CALL_SERVICE_PATH = '/fsi/api/rsfComIfsService/callService';

/** Transaction codes (交易编号) of the items, as in the bundle. */
export const INFNO = {
  employeeEnrollment: '3101',
  residentEnrollment: '3102',
  employeeChange: '3103',
  residentChange: '3104',
  transfer: '3201',
} as const;

/** `infcode` values of a response. Any value not listed here is a contract error. */
export const INFCODE = {
  success: 0,
  /** The department's system failed; the same message may succeed later. */
  systemError: -1,
  /** The department refused the item (不予受理), and `output` contains `refusal_code` and `legal_basis`. */
  refused: 1,
  /** The envelope or its input is missing or has an invalid field; `err_msg` names it. */
  invalidMessage: 2,
  /** `signtype`, `cainfo` or `inf_time` did not pass the signature check. */
  signatureInvalid: 3,
} as const;

export const SIGN_TYPE = 'HMAC-SHA256';
export const INTERFACE_VERSION = 'V1.0';
export const MSGID_LENGTH = 30;

/** Insurance types (险种类型) of the national code table: 310 employee, 390 urban and rural resident. */
export const INSUTYPE = { employee: '310', resident: '390' } as const;

/** Change items (变更项目) the department accepts for an existing enrollment. */
export const CHANGE_ITEMS = { phone: 'tel', address: 'addr' } as const;

export interface MaterialPayload {
  material: string;
  media_type: string;
  sha256: string;
  content_base64: string;
}

export interface MedicalInputData {
  reference: string;
  callback_url: string;
  /** Certificate type (人员证件类型): `01` is the resident ID card. */
  psn_cert_type: string;
  certno: string;
  psn_name: string;
  /** Sex, GB/T 2261.1. */
  gend: string;
  /** Birth date, yyyy-MM-dd. */
  brdy: string;
  insutype?: string;
  /** Start date of the insurance, yyyy-MM-dd. */
  begndate?: string;
  insu_admdvs?: string;
  insu_town?: string;
  insu_cmnty?: string;
  trans_in_admdvs?: string;
  /** `1` when the military personal account must be moved, `0` otherwise. */
  mil_acct_trans_flag?: '0' | '1';
  /** `1` when the applicant was insured in Chongqing before. */
  cq_insu_his_flag?: '0' | '1';
  chg_item?: string;
  chg_bef_val?: string;
  chg_aft_val?: string;
  chg_rea?: string;
  materials: MaterialPayload[];
}

/** Fields that every request and callback envelope carries besides its payload. */
export interface EnvelopeHead {
  infno: string;
  msgid: string;
  mdtrtarea_admvs: string;
  insuplc_admdvs: string;
  recer_sys_code: string;
  infver: string;
  opter_type: string;
  opter: string;
  opter_name: string;
  /** yyyy-MM-dd HH:mm:ss in China Standard Time. */
  inf_time: string;
  fixmedins_code: string;
  fixmedins_name: string;
  sign_no: string;
}

export interface SignatureFields {
  signtype: string;
  /** Hex HMAC-SHA256 over the canonical JSON of the envelope without `cainfo`. */
  cainfo: string;
}

export interface RequestEnvelope extends EnvelopeHead, SignatureFields {
  input: { data: MedicalInputData };
}

export interface ResponseEnvelope {
  infcode: number;
  err_msg: string;
  /** The department's id for its response message. */
  inf_refmsgid: string;
  refmsg_time: string;
  respond_time: string;
  output: Record<string, unknown> | null;
}

export type CallbackStatus = 'accepted' | 'completed' | 'rejected';

export interface CallbackDocument {
  kind: string;
  name: string;
  media_type: string;
  content_base64: string;
}

export interface CallbackOutput {
  event_id: string;
  reference: string;
  receipt_no: string;
  status: CallbackStatus;
  /** yyyy-MM-dd HH:mm:ss in China Standard Time. */
  occurred_at: string;
  reason?: string;
  legal_basis?: string;
  documents: CallbackDocument[];
}

export interface CallbackEnvelope extends EnvelopeHead, SignatureFields {
  /** The `msgid` of the submission this result belongs to. */
  inf_refmsgid: string;
  output: CallbackOutput;
}

/**
 * Derives a 30-character message id from a stable seed, so a retried submission carries
 * the msgid of the first attempt and the department dedupes it. The 120 bits of
 * SHA-256 make a collision between distinct seeds negligible.
 */
export function deriveMsgid(seed: string): string {
  return sha256Hex(seed).slice(0, MSGID_LENGTH).toUpperCase();
}

const CHINA_OFFSET_MS = 8 * 60 * 60 * 1000;
const INF_TIME = /^(\d{4}-\d{2}-\d{2}) (\d{2}:\d{2}:\d{2})$/;

/** Formats epoch milliseconds as `yyyy-MM-dd HH:mm:ss` in China Standard Time, which has no daylight saving. */
export function formatInfTime(epochMs: number): string {
  return new Date(epochMs + CHINA_OFFSET_MS).toISOString().slice(0, 19).replace('T', ' ');
}

/** Converts an envelope time to ISO 8601 with the +08:00 offset; undefined when it is not a real time. */
export function infTimeToIso(text: string): string | undefined {
  const match = INF_TIME.exec(text);
  if (!match) return undefined;
  const iso = `${match[1]}T${match[2]}+08:00`;
  const epochMs = Date.parse(iso);
  // Date.parse rolls 02-30 over into March, so a round trip catches impossible dates.
  if (Number.isNaN(epochMs) || formatInfTime(epochMs) !== text) return undefined;
  return iso;
}
