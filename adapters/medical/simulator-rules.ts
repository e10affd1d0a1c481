/**
 * Request checks of the simulated medical insurance service, run before it issues a
 * receipt: the signature (infcode 3), required fields (infcode 2), then refusals
 * (infcode 1) that an insurance clerk would give at once.
 */
import { sha256Hex } from '../../src/adapters-kit/index.ts';
import { findSignatureProblem } from './envelope.ts';
import { CHANGE_ITEMS, INFCODE, INFNO, type RequestEnvelope } from './protocol.ts';

export interface Verdict {
  infcode: number;
  errMsg: string;
  output: Record<string, string> | null;
}

/** A fictional but plausible basis: the service rules that come with the bundle's notice. */
const SERVICE_RULES = '《重庆市退役军人服务“一件事”办理人服务规范》';

const HEAD_PATTERNS: [string, RegExp][] = [
  ['infno', /^\d{4}$/],
  ['msgid', /^[0-9A-Za-z]{30}$/],
  ['insuplc_admdvs', /^\d{6}$/],
  ['mdtrtarea_admvs', /^\d{6}$/],
];

const IDENTITY_FIELDS = ['reference', 'psn_cert_type', 'certno', 'psn_name', 'gend', 'brdy'];
const ENROLLMENT_FIELDS = ['insutype', 'begndate', 'insu_admdvs', 'insu_town', 'insu_cmnty'];
const CHANGE_FIELDS = ['insutype', 'chg_item', 'chg_bef_val', 'chg_aft_val', 'chg_rea'];
const TRANSFER_FIELDS = [
  'insutype',
  'insu_admdvs',
  'trans_in_admdvs',
  'mil_acct_trans_flag',
  'cq_insu_his_flag',
];

const ITEM_FIELDS: Record<string, string[]> = {
  [INFNO.employeeEnrollment]: ENROLLMENT_FIELDS,
  [INFNO.residentEnrollment]: ENROLLMENT_FIELDS,
  [INFNO.employeeChange]: CHANGE_FIELDS,
  [INFNO.residentChange]: CHANGE_FIELDS,
  [INFNO.transfer]: TRANSFER_FIELDS,
};

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Returns why a request envelope cannot be received, or undefined when it can. */
export function checkRequestEnvelope(secret: string, envelope: unknown): Verdict | undefined {
  if (!isObject(envelope)) return invalidMessage('body');
  const signatureProblem = findSignatureProblem(secret, envelope);
  if (signatureProblem !== undefined) {
    return { infcode: INFCODE.signatureInvalid, errMsg: `签名验证失败：${signatureProblem}`, output: null };
  }

  const headField = HEAD_PATTERNS.find(([field, pattern]) => !pattern.test(String(envelope[field] ?? '')));
  if (headField !== undefined) return invalidMessage(headField[0]);
  const input = envelope.input;
  if (!isObject(input) || !isObject(input.data)) return invalidMessage('input.data');
  const data = input.data;

  const itemFields = ITEM_FIELDS[String(envelope.infno)];
  if (itemFields === undefined) {
    return refusal(
      'unsupported_infno',
      `医疗保障部门不办理交易编号为“${String(envelope.infno)}”的业务，请核对申请事项。`,
      `${SERVICE_RULES}所列医疗保障部门联办事项`,
    );
  }
  const missing = [...IDENTITY_FIELDS, ...itemFields].find((field) => !isNonEmptyString(data[field]));
  if (missing !== undefined) return invalidMessage(`input.data.${missing}`);
  const materialField = findInvalidMaterial(data.materials);
  if (materialField !== undefined) return invalidMessage(`input.data.${materialField}`);

  return checkBusinessRules(envelope as unknown as RequestEnvelope);
}

function checkBusinessRules(envelope: RequestEnvelope): Verdict | undefined {
  const { data } = envelope.input;
  const allowedChanges: string[] = Object.values(CHANGE_ITEMS);
  if (data.chg_item !== undefined && !allowedChanges.includes(data.chg_item)) {
    return refusal(
      'change_item_not_allowed',
      '已有正常参保登记信息的人员仅可变更联系电话或联系地址，其他参保信息请到参保地医保经办机构办理。',
      `${SERVICE_RULES}：已在重庆市内有正常参保登记信息的，仅可修改非关键信息（电话、住址）`,
    );
  }
  const hasVoucher = data.materials.some((material) => material.material === 'medicalTransferVoucher');
  if (envelope.infno === INFNO.transfer && !hasVoucher) {
    return refusal(
      'transfer_voucher_missing',
      '未提供军人退役医疗保险个人账户转移凭证或义务兵退役医疗保险金转移凭证，无法办理基本医疗保险关系转移接续。',
      `${SERVICE_RULES}：医保经办机构根据参保人提供的医疗保险转移凭证受理转移接续`,
    );
  }
  return undefined;
}

/** Returns the path of the first material entry that is malformed or whose SHA-256 does not match. */
function findInvalidMaterial(materials: unknown): string | undefined {
  if (!Array.isArray(materials)) return 'materials';
  for (const [index, material] of materials.entries()) {
    const path = `materials[${index}]`;
    if (!isObject(material)) return path;
    for (const key of ['material', 'media_type', 'sha256', 'content_base64']) {
      if (!isNonEmptyString(material[key])) return `${path}.${key}`;
    }
    const sha256 = String(material.sha256);
    if (
      !SHA256_HEX.test(sha256) ||
      sha256Hex(Buffer.from(String(material.content_base64), 'base64')) !== sha256
    ) {
      return `${path}.sha256`;
    }
  }
  return undefined;
}

export function invalidMessage(field: string): Verdict {
  return { infcode: INFCODE.invalidMessage, errMsg: `报文字段${field}缺失或无效`, output: { field } };
}

function refusal(code: string, message: string, legalBasis: string): Verdict {
  return {
    infcode: INFCODE.refused,
    errMsg: message,
    output: { refusal_code: code, legal_basis: legalBasis },
  };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}
