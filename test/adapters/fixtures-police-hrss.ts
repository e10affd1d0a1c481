/**
 * Fictional case data for the police and hrss adapter tests, copied from the typical
 * example case: every person, number and address here is made up.
 */
import { readFileSync } from 'node:fs';
import { sha256Hex } from '../../src/adapters-kit/signing.ts';
import type { OutboundDocument, SubmissionRequest } from '../../src/adapters-kit/types.ts';

export const FICTIONAL_NAME = '测试退役甲';
export const FICTIONAL_ID_NUMBER = '500106200003151233';

export const FICTIONAL_FORM = {
  platformCaseId: 'YKB-500106-20250929-000417',
  bundle: 'veteran-service',
  submittedAt: '2025-09-29T09:42:10+08:00',
  channel: 'app',
  district: '500106',
  service: {
    category: 'conscript',
    placement: 'self-employment',
    dischargeDate: '2025-09-12',
    reserveRegistration: { completed: true, date: '2025-09-22' },
  },
  applicant: {
    name: FICTIONAL_NAME,
    sex: '1',
    idType: '111',
    idNumber: FICTIONAL_ID_NUMBER,
    birthDate: '2000-03-15',
    householdType: 'resident',
    education: '21',
    workStartDate: '2023-09-01',
    ethnicity: '01',
    phone: '13800000000',
    contactAddress: '重庆市沙坪坝区测试路1号',
    emergencyContact: { name: '测试联系人丙', phone: '13900000000' },
    householdAddress: '重庆市沙坪坝区测试路1号',
    residenceAddress: '重庆市沙坪坝区测试路1号',
    postalCode: '400030',
    bankAccount: { cardNumber: '6217000000000000004', bankName: '测试银行重庆沙坪坝支行' },
  },
  settlement: {
    unitLocation: { province: '西藏自治区', city: '拉萨市', district: '城关区' },
    type: 'with-parents',
    enlistedOutsideChongqing: false,
    householdHead: {
      name: '测试户主乙',
      relation: '20',
      idNumber: '500103197206082342',
      phone: '13700000000',
    },
    addressDistrict: '500106',
    street: '测试街道测试巷',
    detailAddress: '重庆市沙坪坝区测试路1号2单元3-1',
    doorplateCode: '500106000000000001',
    kinshipProofPaperPending: true,
  },
  idCardReplacement: { lossPlace: '重庆市沙坪坝区测试路', lossDate: '2025-09-01' },
  idCardMailing: {
    province: '重庆市',
    city: '重庆市',
    district: '沙坪坝区',
    address: '测试路1号2单元3-1',
    recipient: FICTIONAL_NAME,
    phone: '13800000000',
  },
  pension: { district: '500106', township: '测试街道', community: '测试社区' },
  socialSecurityCard: {
    issuer: '重庆市沙坪坝区公安分局',
    businessType: 'first-application',
    nationality: 'CHN',
    occupation: '4-00-00-00',
    bank: '测试银行',
    taxResidency: 'china-only',
    idValidFrom: '2020-03-01',
    idValidTo: '2030-03-01',
    activateFinancialOutsideCity: false,
  },
  delivery: { method: 'mail' },
  declaration: { agreed: true, signedAt: '2025-09-29T09:41:55+08:00' },
};

interface BundleItem {
  key: string;
  businessCode: string | null;
}

const bundle = JSON.parse(
  readFileSync(new URL('../../contracts/veteran-service/bundle.json', import.meta.url), 'utf8'),
) as { items: BundleItem[] };

export function businessCodeOf(itemKey: string): string {
  const code = bundle.items.find((item) => item.key === itemKey)?.businessCode;
  if (!code) throw new Error(`bundle has no business code for ${itemKey}`);
  return code;
}

export function bundleBusinessCodes(department: string): string[] {
  const items = bundle.items as Array<BundleItem & { department: string }>;
  return items
    .filter((item) => item.department === department && item.businessCode)
    .map((item) => item.businessCode ?? '');
}

/** Returns a fictional material: marker bytes that name the material, not a real image. */
export function fictionalMaterial(material: string, mediaType: string): OutboundDocument {
  const content = Buffer.from(`FICTIONAL TEST MATERIAL ${material} `.repeat(40));
  return { material, mediaType, sha256: sha256Hex(content), content };
}

const MATERIALS_BY_ITEM: Record<string, OutboundDocument[]> = {
  'household-settlement': [
    fictionalMaterial('photo', 'image/jpeg'),
    fictionalMaterial('householdReferralLetter', 'application/pdf'),
    fictionalMaterial('kinshipProof', 'application/pdf'),
  ],
  'id-card-renewal': [
    fictionalMaterial('idCardFront', 'image/jpeg'),
    fictionalMaterial('idCardBack', 'image/jpeg'),
  ],
  'id-card-replacement': [],
  'employee-pension-enrollment': [fictionalMaterial('electronicIdMaterial', 'application/pdf')],
  'resident-pension-enrollment': [fictionalMaterial('electronicIdMaterial', 'application/pdf')],
  'social-security-card-application': [
    fictionalMaterial('photo', 'image/jpeg'),
    fictionalMaterial('electronicIdMaterial', 'application/pdf'),
  ],
  'social-security-card-reissue': [
    fictionalMaterial('photo', 'image/jpeg'),
    fictionalMaterial('electronicIdMaterial', 'application/pdf'),
  ],
};

let caseCounter = 0;

/** Builds a submission of one item of a fresh fictional case; `form` replaces the whole form. */
export function makeSubmission(
  itemKey: string,
  overrides: { form?: Record<string, unknown>; caseId?: string; callbackUrl?: string } = {},
): SubmissionRequest {
  caseCounter += 1;
  const caseId = overrides.caseId ?? `case-test-${process.pid}-${caseCounter}`;
  return {
    caseId,
    itemKey,
    businessCode: businessCodeOf(itemKey),
    idempotencyKey: `${caseId}:${itemKey}:v1`,
    reference: `${caseId}.${itemKey}`,
    callbackUrl: overrides.callbackUrl ?? '',
    form: overrides.form ?? structuredClone(FICTIONAL_FORM),
    materials: MATERIALS_BY_ITEM[itemKey] ?? [],
  };
}

/** Returns a copy of the fictional form with the applicant's name replaced. */
export function formWithApplicantName(name: string): Record<string, unknown> {
  const form = structuredClone(FICTIONAL_FORM);
  form.applicant.name = name;
  return form;
}
