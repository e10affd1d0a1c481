/**
 * Citizen ID numbers (公民身份号码) as GB 11643-1999 defines them. A number is a six-digit
 * address code (GB/T 2260), an eight-digit birth date (GB/T 7408) and a three-digit
 * sequence code, whose last digit is odd for men and even for women. A check character
 * computed with ISO 7064 MOD 11-2 ends it.
 *
 * The address code is the one in force when the number was issued, and a number keeps it
 * for life, so a number is never rejected because its first six digits are no longer a
 * current district. Only the first two digits are checked, against the province codes.
 */
import { isCivilDate } from '../calendar/civil-date.ts';

/** ISO 7064 MOD 11-2 weights of positions 1 to 17: 2^(18 - i) mod 11. */
export const ID_NUMBER_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2] as const;

/** Check character for each remainder 0 to 10 of the weighted sum modulo 11. */
const CHECK_CHARACTERS = '10X98765432';

/**
 * Province-level codes of GB/T 2260 (the first two digits of an address code), as in the
 * Ministry of Civil Affairs' division code list: 31 provinces, autonomous regions and
 * municipalities, plus 71 台湾省, 81 香港 and 82 澳门.
 */
export const PROVINCE_CODES: ReadonlySet<string> = new Set([
  ...['11', '12', '13', '14', '15'],
  ...['21', '22', '23'],
  ...['31', '32', '33', '34', '35', '36', '37'],
  ...['41', '42', '43', '44', '45', '46'],
  ...['50', '51', '52', '53', '54'],
  ...['61', '62', '63', '64', '65'],
  ...['71', '81', '82'],
]);

const ID_NUMBER_PATTERN = /^[0-9]{17}[0-9X]$/;

/**
 * Earliest birth year the gateway accepts. GB/T 7408 allows any year, so this bound is
 * only a plausibility check that catches a mistyped century.
 */
const EARLIEST_BIRTH_YEAR = 1900;

export type IdNumberFault = 'format' | 'province' | 'birth-date' | 'check-digit';

export interface IdNumberFacts {
  birthDate: string;
  /** GB/T 2261.1 sex code implied by the 17th digit: `1` male (odd), `2` female (even). */
  sexCode: '1' | '2';
}

/** Computes the check character of the first 17 digits. */
export function checkCharacter(first17: string): string {
  let sum = 0;
  for (let index = 0; index < 17; index += 1) sum += Number(first17[index]) * (ID_NUMBER_WEIGHTS[index] ?? 0);
  return CHECK_CHARACTERS[sum % 11] ?? '';
}

/**
 * Checks a citizen ID number. `latestBirthDate` is the last day the birth date may fall
 * on (the submission date). Returns every fault, or the facts the number encodes.
 */
export function inspectIdNumber(
  idNumber: string,
  latestBirthDate: string,
): { ok: true; facts: IdNumberFacts } | { ok: false; faults: IdNumberFault[] } {
  if (!ID_NUMBER_PATTERN.test(idNumber)) return { ok: false, faults: ['format'] };

  const faults: IdNumberFault[] = [];
  if (!PROVINCE_CODES.has(idNumber.slice(0, 2))) faults.push('province');
  const birthDate = `${idNumber.slice(6, 10)}-${idNumber.slice(10, 12)}-${idNumber.slice(12, 14)}`;
  if (!isPlausibleBirthDate(birthDate, latestBirthDate)) faults.push('birth-date');
  if (checkCharacter(idNumber.slice(0, 17)) !== idNumber[17]) faults.push('check-digit');
  if (faults.length > 0) return { ok: false, faults };

  const sexCode = Number(idNumber[16]) % 2 === 1 ? '1' : '2';
  return { ok: true, facts: { birthDate, sexCode } };
}

function isPlausibleBirthDate(date: string, latest: string): boolean {
  return isCivilDate(date) && Number(date.slice(0, 4)) >= EARLIEST_BIRTH_YEAR && date <= latest;
}
