/**
 * The intake rule table: cases derived from the fictional typical case, each with the
 * problems a careful clerk would name (as `CODE /pointer`), and variations that must be
 * accepted. Expected values follow from the rules and standards, never from the code's
 * output. All people, numbers and documents are fictional.
 *
 * Fictional citizen ID numbers, with the GB 11643 check character worked out by hand
 * (weights 7 9 10 5 8 4 2 1 6 3 7 9 10 5 8 4 2; remainders 0..10 map to 1 0 X 9 8 7 6 5 4 3 2):
 * - 500106200003151233 applicant of the typical case, born 2000-03-15, 17th digit 3 (male):
 *   35+0+0+5+0+24+4+0+0+0+0+27+10+25+8+8+6 = 152, 152 mod 11 = 9, check 3.
 * - 500103197206082342 household head of the typical case, 17th digit 4 (female):
 *   35+0+0+5+0+12+2+9+42+6+0+54+0+40+16+12+8 = 241, 241 mod 11 = 10, check 2.
 * - 50010620000315125X same birth date, 17th digit 5 (male):
 *   35+0+0+5+0+24+4+0+0+0+0+27+10+25+8+8+10 = 156, 156 mod 11 = 2, check X.
 * - 50010620040229002X born on the leap day 2004-02-29, 17th digit 2 (female):
 *   35+0+0+5+0+24+4+0+0+12+0+18+20+45+0+0+4 = 167, 167 mod 11 = 2, check X.
 * - 500221199901010014 address code 500221, not in Chongqing's current district table,
 *   born 1999-01-01, 17th digit 1 (male):
 *   35+0+0+10+16+4+2+9+54+27+0+9+0+5+0+0+2 = 173, 173 mod 11 = 8, check 4.
 * - 510212199811110033 a Sichuan (51) address code, born 1998-11-11, 17th digit 3 (male):
 *   35+9+0+10+8+8+2+9+54+24+7+9+10+5+0+0+6 = 196, 196 mod 11 = 9, check 3.
 * - 990106200003151234 province 99 does not exist:
 *   63+81+0+5+0+24+4+0+0+0+0+27+10+25+8+8+6 = 261, 261 mod 11 = 8, check 4.
 * - 50010620230229003X birth date 2023-02-29 does not exist:
 *   35+0+0+5+0+24+4+0+12+9+0+18+20+45+0+0+6 = 178, 178 mod 11 = 2, check X.
 * - 500106203001010019 born 2030-01-01, after the submission:
 *   35+0+0+5+0+24+4+0+18+0+0+9+0+5+0+0+2 = 102, 102 mod 11 = 3, check 9.
 * - 000103197206082344 province 00 does not exist:
 *   0+0+0+5+0+12+2+9+42+6+0+54+0+40+16+12+8 = 206, 206 mod 11 = 8, check 4.
 */
import { TABLE_NOW, type BaseName, type CaseDraft, type MaterialSet } from './case-drafts.ts';

export interface InvalidRow {
  name: string;
  base?: BaseName;
  /** The validator's clock, when the row needs another than TABLE_NOW. */
  now?: string;
  change: (draft: CaseDraft, materials: MaterialSet) => void;
  /** Every problem, as `CODE /pointer`; the answer must list exactly these. */
  expected: string[] | ((materials: MaterialSet) => string[]);
}

export interface ValidRow {
  name: string;
  base?: BaseName;
  now?: string;
  change?: (draft: CaseDraft, materials: MaterialSet) => void;
  /** Warnings of the 202 answer, as `CODE /pointer`. */
  warnings?: string[];
}

const EXT_B = '𠀀'; // U+20000, CJK Extension B: outside GBK
const PHOTO_MIN_BYTES = 30 * 1024;
const PHOTO_MAX_BYTES = 90 * 1024;

const MEDICAL_CHANGE = {
  field: 'phone',
  oldValue: '13800000000',
  newValue: '13900000000',
  reason: '更换手机号码',
};

const notNeeded = (material: string): string => `LB_ERR_MATERIAL_NOT_NEEDED /materials/${material}`;
const CHECK_IN_ONLY_MATERIALS = [
  'photo',
  'dischargeCertificate',
  'dischargeReferralLetter',
  'veteranRegistrationForm',
];

/** Moves the typical case to 2026-02-01, after 江北区 and 渝北区 stopped being accepted. */
function submitOn20260201(draft: CaseDraft): void {
  draft
    .set('/submittedAt', '2026-02-01T09:42:10+08:00')
    .set('/declaration/signedAt', '2026-02-01T09:41:55+08:00');
}

export const INVALID_ROWS: InvalidRow[] = [
  // Item selection.
  {
    name: 'check-in not selected',
    change: (d) => d.dropItem('veteran-check-in'),
    // ③ and ④ are needed only by 退役报到; ① and ② also by other selected items.
    expected: [
      'LB_ERR_ITEMS_CHECK_IN_MISSING /items',
      notNeeded('dischargeReferralLetter'),
      notNeeded('veteranRegistrationForm'),
    ],
  },
  {
    name: 'no items at all',
    base: 'minimal',
    change: (d) => d.set('/items', []),
    expected: ['LB_ERR_ITEMS_CHECK_IN_MISSING /items', ...CHECK_IN_ONLY_MATERIALS.map(notNeeded)],
  },
  {
    name: 'unknown item key',
    change: (d) => d.addItem('reserve-registration'),
    expected: ['LB_ERR_ITEMS_UNKNOWN /items/10'],
  },
  {
    name: 'item selected twice',
    change: (d) => d.addItem('lump-sum-grant'),
    expected: ['LB_ERR_ITEMS_DUPLICATE /items/10'],
  },
  {
    name: 'ID renewal with replacement',
    change: (d) => d.addItem('id-card-replacement'),
    expected: ['LB_ERR_ITEMS_EXCLUSIVE /items', 'LB_ERR_SECTION_MISSING /idCardReplacement'],
  },
  {
    name: 'both pension enrollments',
    change: (d) => d.addItem('resident-pension-enrollment'),
    expected: ['LB_ERR_ITEMS_EXCLUSIVE /items'],
  },
  {
    name: 'card application with reissue',
    change: (d) => d.addItem('social-security-card-reissue'),
    expected: ['LB_ERR_ITEMS_EXCLUSIVE /items', 'LB_ERR_CARD_BUSINESS_TYPE /socialSecurityCard/businessType'],
  },
  {
    name: 'both medical enrollments',
    change: (d) => d.addItem('resident-medical-enrollment'),
    // 13 with 14, and 17 with 14.
    expected: ['LB_ERR_ITEMS_EXCLUSIVE /items', 'LB_ERR_ITEMS_EXCLUSIVE /items'],
  },
  {
    name: 'employee enrollment with employee change',
    change: (d) => d.addItem('employee-medical-change'),
    expected: ['LB_ERR_ITEMS_EXCLUSIVE /items', 'LB_ERR_SECTION_MISSING /medicalInsuranceChange'],
  },
  {
    name: 'resident enrollment with resident change',
    base: 'residentMedical',
    change: (d) => d.addItem('resident-medical-change').set('/medicalInsuranceChange', { ...MEDICAL_CHANGE }),
    expected: ['LB_ERR_ITEMS_EXCLUSIVE /items'],
  },
  {
    name: 'both medical changes',
    base: 'medicalChange',
    change: (d) => d.addItem('resident-medical-change'),
    expected: ['LB_ERR_ITEMS_EXCLUSIVE /items'],
  },
  {
    name: 'employee enrollment with resident change',
    change: (d) => d.addItem('resident-medical-change').set('/medicalInsuranceChange', { ...MEDICAL_CHANGE }),
    expected: ['LB_ERR_ITEMS_EXCLUSIVE /items'],
  },
  {
    name: 'resident enrollment with employee change',
    base: 'residentMedical',
    change: (d) => d.addItem('employee-medical-change').set('/medicalInsuranceChange', { ...MEDICAL_CHANGE }),
    expected: ['LB_ERR_ITEMS_EXCLUSIVE /items'],
  },
  {
    name: 'transfer with resident enrollment',
    change: (d) => d.replaceItem('employee-medical-enrollment', 'resident-medical-enrollment'),
    expected: ['LB_ERR_ITEMS_EXCLUSIVE /items', 'LB_ERR_ITEMS_TRANSFER_NEEDS_ENROLLMENT /items'],
  },
  {
    name: 'transfer without enrollment when new to Chongqing',
    change: (d) => d.dropItem('employee-medical-enrollment'),
    expected: ['LB_ERR_ITEMS_TRANSFER_NEEDS_ENROLLMENT /items'],
  },

  // Sections.
  {
    name: 'settlement section missing',
    change: (d) => d.remove('/settlement'),
    // Without the section no settlement type calls for the kinship proof.
    expected: ['LB_ERR_SECTION_MISSING /settlement', notNeeded('kinshipProof')],
  },
  {
    name: 'training section without training',
    change: (d) => d.dropItem('training-eligibility'),
    expected: ['LB_ERR_SECTION_NOT_NEEDED /employment'],
  },
  {
    name: 'pension section missing',
    change: (d) => d.remove('/pension'),
    expected: ['LB_ERR_SECTION_MISSING /pension'],
  },
  {
    name: 'mailing section missing for mail',
    change: (d) => d.remove('/idCardMailing'),
    expected: ['LB_ERR_SECTION_MISSING /idCardMailing'],
  },
  {
    name: 'mailing section with pickup',
    change: (d) => d.set('/delivery/method', 'pickup'),
    expected: ['LB_ERR_SECTION_NOT_NEEDED /idCardMailing'],
  },
  {
    name: 'change section without change item',
    change: (d) => d.set('/medicalInsuranceChange', { ...MEDICAL_CHANGE }),
    expected: ['LB_ERR_SECTION_NOT_NEEDED /medicalInsuranceChange'],
  },
  {
    name: 'replacement section without replacement',
    change: (d) => d.set('/idCardReplacement', { lossPlace: '重庆市沙坪坝区测试路', lossDate: '2025-09-01' }),
    expected: ['LB_ERR_SECTION_NOT_NEEDED /idCardReplacement'],
  },
  {
    name: 'transfer without transfer-in district',
    change: (d) => d.remove('/medicalInsurance/transferInDistrict'),
    expected: ['LB_ERR_FIELD_REQUIRED /medicalInsurance/transferInDistrict'],
  },
  {
    name: 'renewal type for first card',
    change: (d) => d.set('/socialSecurityCard/businessType', 'renewal'),
    expected: ['LB_ERR_CARD_BUSINESS_TYPE /socialSecurityCard/businessType'],
  },
  {
    name: 'first-application type for reissue',
    base: 'reissue',
    change: (d) => d.set('/socialSecurityCard/businessType', 'first-application'),
    expected: ['LB_ERR_CARD_BUSINESS_TYPE /socialSecurityCard/businessType'],
  },
  {
    name: 'kinship paper original not pending',
    change: (d) => d.set('/settlement/kinshipProofPaperPending', false),
    expected: ['LB_ERR_SETTLEMENT_KINSHIP_PAPER /settlement/kinshipProofPaperPending'],
  },
  {
    name: 'kinship paper original not stated',
    change: (d) => d.remove('/settlement/kinshipProofPaperPending'),
    expected: ['LB_ERR_SETTLEMENT_KINSHIP_PAPER /settlement/kinshipProofPaperPending'],
  },
  {
    name: 'medical start date missing',
    change: (d) => d.remove('/medicalInsurance/startDate'),
    expected: ['LB_ERR_FIELD_REQUIRED /medicalInsurance/startDate'],
  },
  {
    name: 'household head missing',
    change: (d) => d.remove('/settlement/householdHead'),
    expected: ['LB_ERR_FIELD_REQUIRED /settlement/householdHead'],
  },
  {
    name: 'loss date missing',
    base: 'replacement',
    change: (d) => d.remove('/idCardReplacement/lossDate'),
    expected: ['LB_ERR_FIELD_REQUIRED /idCardReplacement/lossDate'],
  },

  // Eligibility.
  {
    name: 'placement by job assignment',
    change: (d) => d.set('/service/placement', 'job-assignment'),
    expected: ['LB_ERR_PLACEMENT_UNSUPPORTED /service/placement'],
  },
  {
    name: 'placement by retirement',
    change: (d) => d.set('/service/placement', 'retirement'),
    expected: ['LB_ERR_PLACEMENT_UNSUPPORTED /service/placement'],
  },
  {
    name: 'placement by support',
    change: (d) => d.set('/service/placement', 'support'),
    expected: ['LB_ERR_PLACEMENT_UNSUPPORTED /service/placement'],
  },
  {
    name: 'placement outside the list',
    change: (d) => d.set('/service/placement', 'other'),
    expected: ['LB_ERR_FIELD_VALUE /service/placement'],
  },
  {
    name: 'reserve registration not done',
    change: (d) => d.set('/service/reserveRegistration', { completed: false }),
    expected: ['LB_ERR_RESERVE_NOT_COMPLETED /service/reserveRegistration/completed'],
  },
  {
    name: 'reserve registration without date',
    change: (d) => d.remove('/service/reserveRegistration/date'),
    expected: ['LB_ERR_RESERVE_DATE_MISSING /service/reserveRegistration/date'],
  },
  {
    name: 'reserve registration before discharge',
    change: (d) => d.set('/service/reserveRegistration/date', '2025-09-11'),
    expected: ['LB_ERR_DATE_ORDER /service/reserveRegistration/date'],
  },
  {
    name: 'reserve registration after submission',
    change: (d) => d.set('/service/reserveRegistration/date', '2025-09-30'),
    expected: ['LB_ERR_DATE_IN_FUTURE /service/reserveRegistration/date'],
  },
  {
    name: 'reserve registration flag as text',
    change: (d) => d.set('/service/reserveRegistration/completed', 'yes'),
    expected: ['LB_ERR_FIELD_TYPE /service/reserveRegistration/completed'],
  },
  {
    name: 'declaration not agreed',
    change: (d) => d.set('/declaration/agreed', false),
    expected: ['LB_ERR_DECLARATION_NOT_AGREED /declaration/agreed'],
  },
  {
    name: 'discharge after submission',
    change: (d) => d.set('/service/dischargeDate', '2025-09-30'),
    // The reserve registration of 2025-09-22 then precedes the discharge.
    expected: [
      'LB_ERR_DATE_IN_FUTURE /service/dischargeDate',
      'LB_ERR_DATE_ORDER /service/reserveRegistration/date',
    ],
  },

  // Citizen ID numbers.
  {
    name: 'applicant check digit wrong',
    change: (d) => d.set('/applicant/idNumber', '500106200003151234'),
    expected: ['LB_ERR_ID_CHECK_DIGIT /applicant/idNumber'],
  },
  {
    name: 'applicant X where a digit belongs',
    change: (d) => d.set('/applicant/idNumber', '50010620000315123X'),
    expected: ['LB_ERR_ID_CHECK_DIGIT /applicant/idNumber'],
  },
  {
    name: 'applicant lower-case x',
    change: (d) => d.set('/applicant/idNumber', '50010620000315125x'),
    expected: ['LB_ERR_ID_FORMAT /applicant/idNumber'],
  },
  {
    name: 'applicant number of 17 characters',
    change: (d) => d.set('/applicant/idNumber', '50010620000315123'),
    expected: ['LB_ERR_ID_FORMAT /applicant/idNumber'],
  },
  {
    name: 'applicant old 15-digit number',
    change: (d) => d.set('/applicant/idNumber', '500106000315123'),
    expected: ['LB_ERR_ID_FORMAT /applicant/idNumber'],
  },
  {
    name: 'applicant province 99',
    change: (d) => d.set('/applicant/idNumber', '990106200003151234'),
    expected: ['LB_ERR_ID_PROVINCE /applicant/idNumber'],
  },
  {
    name: 'applicant born on 2023-02-29',
    change: (d) => d.set('/applicant/idNumber', '50010620230229003X'),
    expected: ['LB_ERR_ID_BIRTH_DATE /applicant/idNumber'],
  },
  {
    name: 'applicant born after submission',
    change: (d) => d.set('/applicant/idNumber', '500106203001010019'),
    expected: ['LB_ERR_ID_BIRTH_DATE /applicant/idNumber'],
  },
  {
    name: 'birth date disagrees with number',
    change: (d) => d.set('/applicant/birthDate', '2000-03-16'),
    expected: ['LB_ERR_ID_BIRTH_DATE_MISMATCH /applicant/birthDate'],
  },
  {
    name: 'female sex with male number',
    change: (d) => d.set('/applicant/sex', '2'),
    expected: ['LB_ERR_ID_SEX_MISMATCH /applicant/sex'],
  },
  {
    name: 'unstated sex with male number',
    change: (d) => d.set('/applicant/sex', '9'),
    expected: ['LB_ERR_ID_SEX_MISMATCH /applicant/sex'],
  },
  {
    name: 'head check digit wrong',
    change: (d) => d.set('/settlement/householdHead/idNumber', '500103197206082343'),
    expected: ['LB_ERR_ID_CHECK_DIGIT /settlement/householdHead/idNumber'],
  },
  {
    name: 'head number with a space',
    change: (d) => d.set('/settlement/householdHead/idNumber', '500103 19720608234'),
    expected: ['LB_ERR_ID_FORMAT /settlement/householdHead/idNumber'],
  },
  {
    name: 'head province 00',
    change: (d) => d.set('/settlement/householdHead/idNumber', '000103197206082344'),
    expected: ['LB_ERR_ID_PROVINCE /settlement/householdHead/idNumber'],
  },

  // Code tables.
  {
    name: 'district outside Chongqing',
    change: (d) => d.set('/district', '510106'),
    expected: ['LB_ERR_CODE_DISTRICT /district'],
  },
  {
    name: 'Liangjiang district before it existed',
    change: (d) => d.set('/district', '500157'),
    expected: ['LB_ERR_CODE_DISTRICT /district'],
  },
  {
    name: 'Jiangbei district after the changeover',
    now: '2026-02-01T10:00:00+08:00',
    change: (d) => {
      submitOn20260201(d);
      d.set('/district', '500105');
    },
    expected: ['LB_ERR_CODE_DISTRICT /district'],
  },
  {
    name: 'settlement district unknown',
    change: (d) => d.set('/settlement/addressDistrict', '500199'),
    expected: ['LB_ERR_CODE_DISTRICT /settlement/addressDistrict'],
  },
  {
    name: 'pension district is the city code',
    change: (d) => d.set('/pension/district', '500000'),
    expected: ['LB_ERR_CODE_DISTRICT /pension/district'],
  },
  {
    name: 'preferred location in Beijing',
    change: (d) => d.set('/employment/preferredLocation', '110101'),
    expected: ['LB_ERR_CODE_DISTRICT /employment/preferredLocation'],
  },
  {
    name: 'transfer-in district not yet in force',
    change: (d) => d.set('/medicalInsurance/transferInDistrict', '500157'),
    expected: ['LB_ERR_CODE_DISTRICT /medicalInsurance/transferInDistrict'],
  },
  {
    name: 'sex code 5',
    change: (d) => d.set('/applicant/sex', '5'),
    expected: ['LB_ERR_CODE_SEX /applicant/sex'],
  },
  {
    name: 'ethnic group 57',
    change: (d) => d.set('/applicant/ethnicity', '57'),
    expected: ['LB_ERR_CODE_ETHNICITY /applicant/ethnicity'],
  },
  {
    name: 'ethnic group as a number',
    change: (d) => d.set('/applicant/ethnicity', 1),
    expected: ['LB_ERR_CODE_ETHNICITY /applicant/ethnicity'],
  },
  {
    name: 'education 50',
    change: (d) => d.set('/applicant/education', '50'),
    expected: ['LB_ERR_CODE_EDUCATION /applicant/education'],
  },
  {
    name: 'relation 98',
    change: (d) => d.set('/settlement/householdHead/relation', '98'),
    expected: ['LB_ERR_CODE_RELATION /settlement/householdHead/relation'],
  },
  {
    name: 'ID type 414',
    change: (d) => d.set('/applicant/idType', '414'),
    expected: ['LB_ERR_CODE_ID_TYPE /applicant/idType'],
  },
  {
    name: 'household type urban',
    change: (d) => d.set('/applicant/householdType', 'urban'),
    expected: ['LB_ERR_CODE_HOUSEHOLD_TYPE /applicant/householdType'],
  },

  // Formats.
  {
    name: 'mobile of 12 digits',
    change: (d) => d.set('/applicant/phone', '138000000001'),
    expected: ['LB_ERR_PHONE_FORMAT /applicant/phone'],
  },
  {
    name: 'mobile with second digit 2',
    change: (d) => d.set('/applicant/phone', '12000000000'),
    expected: ['LB_ERR_PHONE_FORMAT /applicant/phone'],
  },
  {
    name: 'applicant Beijing fixed line',
    change: (d) => d.set('/applicant/phone', '010-62345678'),
    expected: ['LB_ERR_PHONE_FORMAT /applicant/phone'],
  },
  {
    name: 'fixed line number starting with 0',
    change: (d) => d.set('/applicant/phone', '023-01234567'),
    expected: ['LB_ERR_PHONE_FORMAT /applicant/phone'],
  },
  {
    name: 'head Chengdu fixed line',
    change: (d) => d.set('/settlement/householdHead/phone', '028-62345678'),
    expected: ['LB_ERR_PHONE_FORMAT /settlement/householdHead/phone'],
  },
  {
    name: 'emergency phone as text',
    change: (d) => d.set('/applicant/emergencyContact/phone', 'abc'),
    expected: ['LB_ERR_PHONE_FORMAT /applicant/emergencyContact/phone'],
  },
  {
    name: 'recipient fixed line too short',
    change: (d) => d.set('/idCardMailing/phone', '023-1234567'),
    expected: ['LB_ERR_PHONE_FORMAT /idCardMailing/phone'],
  },
  {
    name: 'postal code of 5 digits',
    change: (d) => d.set('/applicant/postalCode', '40003'),
    expected: ['LB_ERR_POSTAL_CODE_FORMAT /applicant/postalCode'],
  },
  {
    name: 'postal code with a letter',
    change: (d) => d.set('/applicant/postalCode', '40003A'),
    expected: ['LB_ERR_POSTAL_CODE_FORMAT /applicant/postalCode'],
  },
  {
    name: 'bank card with spaces',
    change: (d) => d.set('/applicant/bankAccount/cardNumber', '6217 0000 0000 0000 004'),
    expected: ['LB_ERR_BANK_CARD_FORMAT /applicant/bankAccount/cardNumber'],
  },
  {
    name: 'bank card of 11 digits',
    change: (d) => d.set('/applicant/bankAccount/cardNumber', '62170000000'),
    expected: ['LB_ERR_BANK_CARD_FORMAT /applicant/bankAccount/cardNumber'],
  },
  {
    name: 'bank card of 20 digits',
    change: (d) => d.set('/applicant/bankAccount/cardNumber', '62170000000000000040'),
    expected: ['LB_ERR_BANK_CARD_FORMAT /applicant/bankAccount/cardNumber'],
  },
  {
    name: 'birth date 2023-02-29',
    change: (d) => d.set('/applicant/birthDate', '2023-02-29'),
    expected: ['LB_ERR_DATE_INVALID /applicant/birthDate'],
  },
  {
    name: 'birth date 2000-02-30',
    change: (d) => d.set('/applicant/birthDate', '2000-02-30'),
    expected: ['LB_ERR_DATE_INVALID /applicant/birthDate'],
  },
  {
    name: 'work start in month 13',
    change: (d) => d.set('/applicant/workStartDate', '2025-13-01'),
    expected: ['LB_ERR_DATE_INVALID /applicant/workStartDate'],
  },
  {
    name: 'discharge date with slashes',
    change: (d) => d.set('/service/dischargeDate', '2025/09/12'),
    expected: ['LB_ERR_DATE_INVALID /service/dischargeDate'],
  },
  {
    name: 'work start after submission',
    change: (d) => d.set('/applicant/workStartDate', '2025-10-01'),
    expected: ['LB_ERR_DATE_IN_FUTURE /applicant/workStartDate'],
  },
  {
    name: 'work start before birth',
    change: (d) => d.set('/applicant/workStartDate', '1999-09-01'),
    expected: ['LB_ERR_DATE_ORDER /applicant/workStartDate'],
  },
  {
    name: 'loss date after submission',
    base: 'replacement',
    change: (d) => d.set('/idCardReplacement/lossDate', '2025-09-30'),
    expected: ['LB_ERR_DATE_IN_FUTURE /idCardReplacement/lossDate'],
  },
  {
    name: 'validity ends before it starts',
    change: (d) => d.set('/socialSecurityCard/idValidTo', '2019-03-01'),
    expected: ['LB_ERR_DATE_ORDER /socialSecurityCard/idValidTo'],
  },
  {
    name: 'validity ends the day it starts',
    change: (d) => d.set('/socialSecurityCard/idValidTo', '2020-03-01'),
    expected: ['LB_ERR_DATE_ORDER /socialSecurityCard/idValidTo'],
  },
  {
    name: 'validity end neither date nor long-term',
    change: (d) => d.set('/socialSecurityCard/idValidTo', 'forever'),
    expected: ['LB_ERR_DATE_INVALID /socialSecurityCard/idValidTo'],
  },
  {
    name: 'validity starts after submission',
    change: (d) => d.set('/socialSecurityCard/idValidFrom', '2025-10-01'),
    expected: ['LB_ERR_DATE_IN_FUTURE /socialSecurityCard/idValidFrom'],
  },
  {
    name: 'submission time without offset',
    change: (d) => d.set('/submittedAt', '2025-09-29T09:42:10'),
    expected: ['LB_ERR_DATE_TIME_INVALID /submittedAt'],
  },
  {
    name: 'submission time ahead of the clock',
    change: (d) => d.set('/submittedAt', '2025-09-29T11:00:00+08:00'),
    expected: ['LB_ERR_DATE_SUBMITTED_IN_FUTURE /submittedAt'],
  },
  {
    name: 'signature after submission',
    change: (d) => d.set('/declaration/signedAt', '2025-09-29T09:50:00+08:00'),
    expected: ['LB_ERR_DATE_ORDER /declaration/signedAt'],
  },
  {
    name: 'new phone of a phone change invalid',
    base: 'medicalChange',
    change: (d) => d.set('/medicalInsuranceChange/newValue', '不是电话号码'),
    expected: ['LB_ERR_PHONE_FORMAT /medicalInsuranceChange/newValue'],
  },

  // Shape of the form.
  {
    name: 'name null',
    change: (d) => d.set('/applicant/name', null),
    expected: ['LB_ERR_FIELD_TYPE /applicant/name'],
  },
  {
    name: 'name empty',
    change: (d) => d.set('/applicant/name', ''),
    expected: ['LB_ERR_FIELD_EMPTY /applicant/name'],
  },
  {
    name: 'name of 51 characters',
    change: (d) => d.set('/applicant/name', '测'.repeat(51)),
    expected: ['LB_ERR_FIELD_TOO_LONG /applicant/name'],
  },
  {
    name: 'name of 51 Extension B characters',
    base: 'minimal',
    change: (d) => d.set('/applicant/name', EXT_B.repeat(51)),
    expected: ['LB_ERR_FIELD_TOO_LONG /applicant/name'],
  },
  {
    name: 'address with a line break',
    change: (d) => d.set('/applicant/residenceAddress', '重庆市\n沙坪坝区'),
    expected: ['LB_ERR_FIELD_FORMAT /applicant/residenceAddress'],
  },
  {
    name: 'unknown top-level field',
    change: (d) => d.set('/nickname', '测试'),
    expected: ['LB_ERR_FIELD_UNKNOWN /nickname'],
  },
  {
    name: 'unknown nested field',
    change: (d) => d.set('/applicant/bankAccount/cvv', '123'),
    expected: ['LB_ERR_FIELD_UNKNOWN /applicant/bankAccount/cvv'],
  },
  {
    name: 'channel missing',
    change: (d) => d.remove('/channel'),
    expected: ['LB_ERR_FIELD_REQUIRED /channel'],
  },
  {
    name: 'channel fax',
    change: (d) => d.set('/channel', 'fax'),
    expected: ['LB_ERR_FIELD_VALUE /channel'],
  },
  {
    name: 'another bundle',
    change: (d) => d.set('/bundle', 'enterprise-service'),
    expected: ['LB_ERR_FIELD_VALUE /bundle'],
  },
  {
    name: 'negative salary',
    change: (d) => d.set('/employment/expectedMonthlySalaryYuan', -1),
    expected: ['LB_ERR_FIELD_RANGE /employment/expectedMonthlySalaryYuan'],
  },
  {
    name: 'salary as text',
    change: (d) => d.set('/employment/expectedMonthlySalaryYuan', '6000'),
    expected: ['LB_ERR_FIELD_TYPE /employment/expectedMonthlySalaryYuan'],
  },
  {
    name: 'account transfer flag as text',
    change: (d) => d.set('/medicalInsurance/transferMilitaryAccount', 'true'),
    expected: ['LB_ERR_FIELD_TYPE /medicalInsurance/transferMilitaryAccount'],
  },
  {
    name: 'platform case id in lower case',
    change: (d) => d.set('/platformCaseId', 'ykb-500106-20250929-000417'),
    expected: ['LB_ERR_FIELD_FORMAT /platformCaseId'],
  },
  {
    name: 'items as a string',
    base: 'minimal',
    change: (d) => d.set('/items', 'veteran-check-in'),
    // With no item selected, no uploaded material is needed.
    expected: ['LB_ERR_FIELD_TYPE /items', ...CHECK_IN_ONLY_MATERIALS.map(notNeeded)],
  },
  {
    name: 'delivery by courier',
    change: (d) => d.set('/delivery/method', 'courier'),
    // Only delivery by mail needs the mailing section.
    expected: ['LB_ERR_FIELD_VALUE /delivery/method', 'LB_ERR_SECTION_NOT_NEEDED /idCardMailing'],
  },
  {
    name: 'applicant section as text',
    base: 'minimal',
    change: (d) => d.set('/applicant', '测试退役甲'),
    expected: ['LB_ERR_FIELD_TYPE /applicant'],
  },

  // Characters the hrss system cannot store.
  {
    name: 'Extension B name with hrss items',
    change: (d) => d.set('/applicant/name', `测试${EXT_B}甲`),
    expected: ['LB_ERR_TEXT_NOT_GBK /applicant/name'],
  },
  {
    name: 'Extension B address with hrss items',
    change: (d) => d.set('/applicant/contactAddress', `重庆市沙坪坝区${EXT_B}路1号`),
    expected: ['LB_ERR_TEXT_NOT_GBK /applicant/contactAddress'],
  },
  {
    name: 'Extension B community for pension',
    change: (d) => d.set('/pension/community', `测试${EXT_B}社区`),
    expected: ['LB_ERR_TEXT_NOT_GBK /pension/community'],
  },
  {
    name: 'Extension B card bank',
    change: (d) => d.set('/socialSecurityCard/bank', `测试${EXT_B}银行`),
    expected: ['LB_ERR_TEXT_NOT_GBK /socialSecurityCard/bank'],
  },

  // Materials.
  {
    name: 'photo missing',
    change: (d) => d.dropUpload('photo'),
    expected: ['LB_ERR_MATERIAL_MISSING /materials/photo'],
  },
  {
    name: 'discharge certificate missing',
    change: (d) => d.dropUpload('dischargeCertificate'),
    expected: ['LB_ERR_MATERIAL_MISSING /materials/dischargeCertificate'],
  },
  {
    name: 'transfer voucher missing',
    change: (d) => d.dropUpload('medicalTransferVoucher'),
    expected: ['LB_ERR_MATERIAL_MISSING /materials/medicalTransferVoucher'],
  },
  {
    name: 'old ID card front missing',
    change: (d) => d.dropUpload('idCardFront'),
    expected: ['LB_ERR_MATERIAL_MISSING /materials/idCardFront'],
  },
  {
    name: 'kinship proof missing',
    change: (d) => d.dropUpload('kinshipProof'),
    expected: ['LB_ERR_MATERIAL_MISSING /materials/kinshipProof'],
  },
  {
    name: 'residence proof not needed',
    change: (d) => d.upload('residenceProof'),
    expected: [notNeeded('residenceProof')],
  },
  {
    name: 'own residence without its proof',
    change: (d) => d.set('/settlement/type', 'own-residence').dropUpload('kinshipProof'),
    expected: ['LB_ERR_MATERIAL_MISSING /materials/residenceProof'],
  },
  {
    name: 'enlisted elsewhere without deregistration',
    change: (d) => d.set('/settlement/enlistedOutsideChongqing', true),
    expected: ['LB_ERR_MATERIAL_MISSING /materials/enlistmentDeregistrationCertificate'],
  },
  {
    name: 'with spouse without marriage certificate',
    change: (d) => d.set('/settlement/type', 'with-spouse').dropUpload('kinshipProof'),
    expected: ['LB_ERR_MATERIAL_MISSING /materials/marriageCertificate'],
  },
  {
    name: 'spouse book for settling with parents',
    change: (d) => d.upload('spouseHouseholdBook'),
    expected: [notNeeded('spouseHouseholdBook')],
  },
  {
    name: 'photo below 30 KB',
    change: (d, m) => d.upload('photo', m.tinyPhoto),
    expected: ['LB_ERR_PHOTO_SIZE /materials/photo'],
  },
  {
    name: 'photo as PNG',
    change: (d, m) => d.upload('photo', m.png),
    expected: ['LB_ERR_MATERIAL_TYPE /materials/photo'],
  },
  {
    name: 'photo of ID card size',
    change: (d, m) => d.upload('photo', m.typical.idCardFront),
    expected: (m) => {
      const bytes = m.typical.idCardFront?.length ?? 0;
      const outOfRange = bytes < PHOTO_MIN_BYTES || bytes > PHOTO_MAX_BYTES;
      return [
        'LB_ERR_PHOTO_DIMENSIONS /materials/photo',
        ...(outOfRange ? ['LB_ERR_PHOTO_SIZE /materials/photo'] : []),
      ];
    },
  },
  {
    name: 'text file as discharge certificate',
    change: (d) => d.upload('dischargeCertificate', Buffer.from('not an image, only text')),
    expected: ['LB_ERR_MATERIAL_TYPE /materials/dischargeCertificate'],
  },
  {
    name: 'empty referral letter',
    change: (d) => d.upload('dischargeReferralLetter', Buffer.alloc(0)),
    expected: ['LB_ERR_MATERIAL_EMPTY /materials/dischargeReferralLetter'],
  },
  {
    name: 'PDF as ID card image',
    change: (d, m) => d.upload('idCardFront', m.typical.dischargeCertificate),
    expected: ['LB_ERR_MATERIAL_TYPE /materials/idCardFront'],
  },
  {
    name: 'unknown material key',
    change: (d, m) => d.upload('selfie', m.typical.photo),
    expected: [notNeeded('selfie')],
  },
  {
    name: 'settlement data without settlement',
    change: (d) => d.dropItem('household-settlement'),
    expected: ['LB_ERR_SECTION_NOT_NEEDED /settlement', notNeeded('kinshipProof')],
  },

  // Many faults at once.
  {
    name: 'five unrelated faults',
    change: (d) => {
      d.set('/applicant/idNumber', '500106200003151234').set('/applicant/phone', '2800000000');
      d.dropUpload('photo')
        .addItem('resident-pension-enrollment')
        .set('/service/placement', 'job-assignment');
    },
    expected: [
      'LB_ERR_ID_CHECK_DIGIT /applicant/idNumber',
      'LB_ERR_PHONE_FORMAT /applicant/phone',
      'LB_ERR_MATERIAL_MISSING /materials/photo',
      'LB_ERR_ITEMS_EXCLUSIVE /items',
      'LB_ERR_PLACEMENT_UNSUPPORTED /service/placement',
    ],
  },
  {
    name: 'applicant section full of faults',
    change: (d) => {
      d.set('/applicant/sex', '5').set('/applicant/ethnicity', '57').set('/applicant/education', '50');
      d.set('/applicant/postalCode', '4000').set('/applicant/name', '').set('/applicant/phone', 'x');
      d.set('/applicant/birthDate', '2023-02-29').set('/applicant/bankAccount/cardNumber', 'abc');
    },
    expected: [
      'LB_ERR_CODE_SEX /applicant/sex',
      'LB_ERR_CODE_ETHNICITY /applicant/ethnicity',
      'LB_ERR_CODE_EDUCATION /applicant/education',
      'LB_ERR_POSTAL_CODE_FORMAT /applicant/postalCode',
      'LB_ERR_FIELD_EMPTY /applicant/name',
      'LB_ERR_PHONE_FORMAT /applicant/phone',
      'LB_ERR_DATE_INVALID /applicant/birthDate',
      'LB_ERR_BANK_CARD_FORMAT /applicant/bankAccount/cardNumber',
    ],
  },
  {
    name: 'items, sections and materials at once',
    change: (d) => {
      d.dropItem('veteran-check-in')
        .remove('/pension')
        .upload('residenceProof')
        .set('/delivery/method', 'pickup');
    },
    expected: [
      'LB_ERR_ITEMS_CHECK_IN_MISSING /items',
      notNeeded('dischargeReferralLetter'),
      notNeeded('veteranRegistrationForm'),
      'LB_ERR_SECTION_MISSING /pension',
      notNeeded('residenceProof'),
      'LB_ERR_SECTION_NOT_NEEDED /idCardMailing',
    ],
  },
  {
    name: 'every date wrong',
    change: (d) => {
      d.set('/applicant/workStartDate', '2025-10-01').set('/socialSecurityCard/idValidTo', '2019-03-01');
      d.set('/service/dischargeDate', '2025-09-30').set('/declaration/signedAt', '2025-09-29T10:30:00+08:00');
    },
    expected: [
      'LB_ERR_DATE_IN_FUTURE /applicant/workStartDate',
      'LB_ERR_DATE_ORDER /socialSecurityCard/idValidTo',
      'LB_ERR_DATE_IN_FUTURE /service/dischargeDate',
      'LB_ERR_DATE_ORDER /service/reserveRegistration/date',
      'LB_ERR_DATE_ORDER /declaration/signedAt',
    ],
  },
  {
    name: 'household head all wrong',
    change: (d) => {
      d.set('/settlement/householdHead', {
        name: '',
        relation: '98',
        idNumber: '500103197206082343',
        phone: '028-62345678',
      });
    },
    expected: [
      'LB_ERR_FIELD_EMPTY /settlement/householdHead/name',
      'LB_ERR_CODE_RELATION /settlement/householdHead/relation',
      'LB_ERR_ID_CHECK_DIGIT /settlement/householdHead/idNumber',
      'LB_ERR_PHONE_FORMAT /settlement/householdHead/phone',
    ],
  },
];

export const VALID_ROWS: ValidRow[] = [
  { name: 'typical case as it is' },
  { name: 'minimal: check-in only', base: 'minimal' },
  {
    name: 'maximal with replacement, reissue and resident change',
    change: (d) => {
      d.replaceItem('id-card-renewal', 'id-card-replacement')
        .dropUpload('idCardFront')
        .dropUpload('idCardBack');
      d.set('/idCardReplacement', { lossPlace: '重庆市沙坪坝区测试路', lossDate: '2025-09-01' });
      d.replaceItem('employee-pension-enrollment', 'resident-pension-enrollment');
      d.replaceItem('social-security-card-application', 'social-security-card-reissue');
      d.set('/socialSecurityCard/businessType', 'reissue');
      d.replaceItem('employee-medical-enrollment', 'resident-medical-change');
      d.set('/medicalInsuranceChange', {
        ...MEDICAL_CHANGE,
        field: 'address',
        newValue: '重庆市沙坪坝区测试路2号',
      });
      d.set('/medicalInsurance/previouslyInsuredInChongqing', true);
    },
  },
  {
    name: 'own residence with its proof',
    change: (d) =>
      d.set('/settlement/type', 'own-residence').dropUpload('kinshipProof').upload('residenceProof'),
  },
  {
    name: 'with spouse, Chongqing household book',
    change: (d) =>
      d.set('/settlement/type', 'with-spouse').dropUpload('kinshipProof').upload('marriageCertificate'),
  },
  {
    name: 'with spouse, household book elsewhere',
    change: (d) => {
      d.set('/settlement/type', 'with-spouse').dropUpload('kinshipProof');
      d.upload('marriageCertificate').upload('spouseHouseholdBook');
    },
  },
  {
    name: 'with parents-in-law',
    change: (d) =>
      d.set('/settlement/type', 'with-parents-in-law').set('/settlement/householdHead/relation', '28'),
  },
  {
    name: 'enlisted outside Chongqing',
    change: (d) =>
      d.set('/settlement/enlistedOutsideChongqing', true).upload('enlistmentDeregistrationCertificate'),
  },
  { name: 'ID replacement instead of renewal', base: 'replacement' },
  { name: 'resident medical enrollment', base: 'residentMedical' },
  { name: 'employee medical change', base: 'medicalChange' },
  {
    name: 'resident pension and resident medical change',
    base: 'medicalChange',
    change: (d) => {
      d.replaceItem('employee-pension-enrollment', 'resident-pension-enrollment');
      d.replaceItem('employee-medical-change', 'resident-medical-change');
    },
  },
  { name: 'card reissue', base: 'reissue' },
  {
    name: 'transfer alone when insured in Chongqing',
    change: (d) =>
      d.dropItem('employee-medical-enrollment').set('/medicalInsurance/previouslyInsuredInChongqing', true),
  },
  {
    name: 'mail delivery without ID items',
    change: (d) => d.dropItem('id-card-renewal').dropUpload('idCardFront').dropUpload('idCardBack'),
  },
  {
    name: 'pickup without mailing section',
    change: (d) => d.set('/delivery/method', 'pickup').remove('/idCardMailing'),
  },
  {
    name: 'Extension B name without hrss items',
    base: 'minimal',
    // 50 characters by code point, although 100 UTF-16 units.
    change: (d) => d.set('/applicant/name', EXT_B.repeat(50)),
  },
  {
    name: 'born on the leap day 2004-02-29',
    change: (d) => {
      d.set('/applicant/idNumber', '50010620040229002X').set('/applicant/birthDate', '2004-02-29');
      d.set('/applicant/sex', '2').set('/applicant/workStartDate', '2022-09-01');
    },
  },
  {
    name: 'check character X',
    change: (d) => d.set('/applicant/idNumber', '50010620000315125X'),
  },
  {
    name: 'address code no longer a district',
    change: (d) => {
      d.set('/applicant/idNumber', '500221199901010014').set('/applicant/birthDate', '1999-01-01');
      d.set('/settlement/householdHead/idNumber', '510212199811110033');
    },
  },
  {
    name: 'fixed lines where allowed',
    change: (d) => {
      d.set('/applicant/phone', '023-65100000').set('/settlement/householdHead/phone', '02365100001');
      d.set('/applicant/emergencyContact/phone', '0817-2345678').set('/idCardMailing/phone', '010-62345678');
    },
  },
  {
    name: 'bank card failing Luhn',
    change: (d) => d.set('/applicant/bankAccount/cardNumber', '6217000000000000005'),
    warnings: ['LB_WARN_BANK_CARD_CHECK_DIGIT /applicant/bankAccount/cardNumber'],
  },
  {
    name: 'late check-in is only flagged',
    change: (d) =>
      d.set('/service/dischargeDate', '2025-07-01').set('/service/reserveRegistration/date', '2025-09-01'),
  },
  {
    name: 'Liangjiang district during the changeover',
    now: '2025-12-01T10:00:00+08:00',
    change: (d) => {
      d.set('/submittedAt', '2025-12-01T09:42:10+08:00').set(
        '/declaration/signedAt',
        '2025-12-01T09:41:55+08:00',
      );
      d.set('/district', '500157')
        .set('/settlement/addressDistrict', '500105')
        .set('/pension/district', '500112');
    },
  },
  {
    name: 'long-term ID validity',
    change: (d) => d.set('/socialSecurityCard/idValidTo', 'long-term'),
  },
  {
    name: 'reserve registration on discharge day',
    change: (d) => d.set('/service/reserveRegistration/date', '2025-09-12'),
  },
  {
    name: 'submission right at the clock',
    change: (d) => d.set('/submittedAt', TABLE_NOW),
  },
];
