/**
 * Builds the signed request envelope for one medical item. Enrollment items carry the
 * medical insurance section, change items the change section, and the transfer item
 * the transfer fields and the transfer voucher (⑨) among its materials.
 */
import { PermanentDepartmentError, type SubmissionRequest } from '../../src/adapters-kit/index.ts';
import { signEnvelope } from './envelope.ts';
import {
  CHANGE_ITEMS,
  INFNO,
  INSUTYPE,
  INTERFACE_VERSION,
  deriveMsgid,
  formatInfTime,
  type EnvelopeHead,
  type MaterialPayload,
  type MedicalInputData,
  type RequestEnvelope,
} from './protocol.ts';

type Form = Record<string, unknown>;
type ItemFields = Omit<MedicalInputData, 'reference' | 'callback_url' | 'materials' | keyof Identity>;
type Identity = Pick<MedicalInputData, 'psn_cert_type' | 'certno' | 'psn_name' | 'gend' | 'brdy'>;

/** The gateway's identity in the envelope head: a fictional sender code registered with the department. */
const SENDER = {
  recer_sys_code: 'CQYB',
  opter_type: '2',
  opter: 'LIANBAN',
  opter_name: '联办网关',
  fixmedins_code: 'LB5000000001',
  fixmedins_name: '退役军人服务一件事联办网关',
} as const;

/** Certificate types of the national code table, by the gateway's ID type code. */
const CERTIFICATE_TYPES: Record<string, string> = { '111': '01' };

const ITEM_BUILDERS: Record<string, (form: Form) => ItemFields> = {
  [INFNO.employeeEnrollment]: (form) => ({ insutype: INSUTYPE.employee, ...readEnrollment(form) }),
  [INFNO.residentEnrollment]: (form) => ({ insutype: INSUTYPE.resident, ...readEnrollment(form) }),
  [INFNO.employeeChange]: (form) => ({ insutype: INSUTYPE.employee, ...readChange(form) }),
  [INFNO.residentChange]: (form) => ({ insutype: INSUTYPE.resident, ...readChange(form) }),
  [INFNO.transfer]: (form) => ({ insutype: INSUTYPE.employee, ...readTransfer(form) }),
};

export function buildRequestEnvelope(
  request: SubmissionRequest,
  secret: string,
  nowMs = Date.now(),
): RequestEnvelope {
  const areaCode = readAreaCode(request.businessCode, request.form);
  const head: EnvelopeHead = {
    infno: request.businessCode,
    // The department dedupes on msgid, so it comes from the idempotency key, not the clock.
    msgid: deriveMsgid(request.idempotencyKey),
    mdtrtarea_admvs: areaCode,
    insuplc_admdvs: areaCode,
    recer_sys_code: SENDER.recer_sys_code,
    infver: INTERFACE_VERSION,
    opter_type: SENDER.opter_type,
    opter: SENDER.opter,
    opter_name: SENDER.opter_name,
    inf_time: formatInfTime(nowMs),
    fixmedins_code: SENDER.fixmedins_code,
    fixmedins_name: SENDER.fixmedins_name,
    // The national platform fills sign_no from an operator sign-in session. The gateway
    // signs each message instead, so it leaves the field empty.
    sign_no: '',
  };
  return signEnvelope(secret, { ...head, input: { data: buildInputData(request) } });
}

function buildInputData(request: SubmissionRequest): MedicalInputData {
  // An unknown transaction code goes out with the identity only, so the department's
  // refusal, with its reason, reaches the applicant.
  const itemFields = ITEM_BUILDERS[request.businessCode]?.(request.form) ?? {};
  return {
    reference: request.reference,
    callback_url: request.callbackUrl,
    ...readIdentity(request.form),
    ...itemFields,
    materials: request.materials.map((document): MaterialPayload => ({
      material: document.material,
      media_type: document.mediaType,
      sha256: document.sha256,
      content_base64: document.content.toString('base64'),
    })),
  };
}

/** Insured place (参保地): the transfer's target district, the enrollment district, else the case's district. */
function readAreaCode(infno: string, form: Form): string {
  if (infno === INFNO.transfer) return requireString(form, 'medicalInsurance.transferInDistrict');
  if (infno === INFNO.employeeEnrollment || infno === INFNO.residentEnrollment) {
    return requireString(form, 'medicalInsurance.district');
  }
  return requireString(form, 'district');
}

function readIdentity(form: Form): Identity {
  const idType = requireString(form, 'applicant.idType');
  const certificateType = CERTIFICATE_TYPES[idType];
  if (certificateType === undefined) {
    throw new PermanentDepartmentError(
      'medical',
      `applicant.idType ${idType} has no medical certificate type`,
    );
  }
  return {
    psn_cert_type: certificateType,
    certno: requireString(form, 'applicant.idNumber'),
    psn_name: requireString(form, 'applicant.name'),
    gend: requireString(form, 'applicant.sex'),
    brdy: requireString(form, 'applicant.birthDate'),
  };
}

function readEnrollment(form: Form): ItemFields {
  return {
    begndate: requireString(form, 'medicalInsurance.startDate'),
    insu_admdvs: requireString(form, 'medicalInsurance.district'),
    insu_town: requireString(form, 'medicalInsurance.township'),
    insu_cmnty: requireString(form, 'medicalInsurance.community'),
  };
}

function readTransfer(form: Form): ItemFields {
  return {
    insu_admdvs: requireString(form, 'medicalInsurance.district'),
    trans_in_admdvs: requireString(form, 'medicalInsurance.transferInDistrict'),
    mil_acct_trans_flag: requireBoolean(form, 'medicalInsurance.transferMilitaryAccount') ? '1' : '0',
    cq_insu_his_flag: requireBoolean(form, 'medicalInsurance.previouslyInsuredInChongqing') ? '1' : '0',
  };
}

function readChange(form: Form): ItemFields {
  const field = requireString(form, 'medicalInsuranceChange.field');
  return {
    // A field other than phone or address goes out unchanged, and the department refuses it.
    chg_item: CHANGE_ITEMS[field as keyof typeof CHANGE_ITEMS] ?? field,
    chg_bef_val: requireString(form, 'medicalInsuranceChange.oldValue'),
    chg_aft_val: requireString(form, 'medicalInsuranceChange.newValue'),
    chg_rea: requireString(form, 'medicalInsuranceChange.reason'),
  };
}

function readPath(form: Form, path: string): unknown {
  let value: unknown = form;
  for (const segment of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

/** Builds the error for a missing form field, a gateway defect that retrying cannot fix. */
function missingField(path: string, expected: string): PermanentDepartmentError {
  return new PermanentDepartmentError('medical', `case form field ${path} is missing or not ${expected}`);
}

function requireString(form: Form, path: string): string {
  const value = readPath(form, path);
  if (typeof value !== 'string' || value === '') throw missingField(path, 'a non-empty string');
  return value;
}

function requireBoolean(form: Form, path: string): boolean {
  const value = readPath(form, path);
  if (typeof value !== 'boolean') throw missingField(path, 'a boolean');
  return value;
}
