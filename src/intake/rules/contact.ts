/**
 * Codes and contact details that depend on other fields: district codes in force on the
 * submission date, the new phone number of a medical insurance change, and the bank
 * card's Luhn check digit.
 */
import { readString, type RuleContext } from './context.ts';
import { problem, warning } from '../problems.ts';

/** Same rule as the schema's phoneNumber definition: mobile, or a fixed line with its area code. */
const PHONE_PATTERN = /^(1[3-9][0-9]{9}|0(10|2[0-9])-?[2-9][0-9]{7}|0[3-9][0-9]{2}-?[2-9][0-9]{6,7})$/;

/**
 * Reports district codes that are in the code table but not in force on the submission
 * date (a code of a district abolished before, or set up after). Codes outside the table
 * are reported by the schema.
 */
export function checkDistrictValidity(ctx: RuleContext, districtPointers: readonly string[]): void {
  const table = ctx.codes.table('districtCode');
  for (const pointer of districtPointers) {
    const code = readString(ctx.form, pointer);
    if (code === undefined || !table.values.some((value) => value.code === code)) continue;
    if (ctx.codes.districtOn(code, ctx.submissionDate)) continue;
    ctx.problems.push(
      problem(
        'LB_ERR_CODE_DISTRICT',
        pointer,
        `申报日期有效的代码：${ctx.codes.describeDistrictsOn(ctx.submissionDate)}`,
      ),
    );
  }
}

export function checkContact(ctx: RuleContext): void {
  checkChangedPhone(ctx);
  checkBankCardCheckDigit(ctx);
}

/** A phone change (变更项目 电话) registers a new phone number, so the new value must be one. */
function checkChangedPhone(ctx: RuleContext): void {
  if (readString(ctx.form, '/medicalInsuranceChange/field') !== 'phone') return;
  const newValue = readString(ctx.form, '/medicalInsuranceChange/newValue');
  if (newValue === undefined || PHONE_PATTERN.test(newValue)) return;
  ctx.problems.push(
    problem(
      'LB_ERR_PHONE_FORMAT',
      '/medicalInsuranceChange/newValue',
      '变更电话的，现登记内容应为 11 位手机号码或带区号的固定电话',
    ),
  );
}

/** Not every UnionPay card number carries a Luhn check digit, so a failure only warns. */
function checkBankCardCheckDigit(ctx: RuleContext): void {
  const cardNumber = readString(ctx.form, '/applicant/bankAccount/cardNumber');
  if (cardNumber === undefined || !/^[0-9]{12,19}$/.test(cardNumber) || passesLuhn(cardNumber)) return;
  ctx.warnings.push(warning('LB_WARN_BANK_CARD_CHECK_DIGIT', '/applicant/bankAccount/cardNumber'));
}

/** Luhn (ISO/IEC 7812-1 annex B): double every second digit from the right, sum the digits, expect a multiple of 10. */
export function passesLuhn(digits: string): boolean {
  let sum = 0;
  for (let offset = 0; offset < digits.length; offset += 1) {
    let digit = Number(digits[digits.length - 1 - offset]);
    if (offset % 2 === 1) digit = digit * 2 > 9 ? digit * 2 - 9 : digit * 2;
    sum += digit;
  }
  return sum % 10 === 0;
}
