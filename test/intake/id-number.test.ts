/**
 * GB 11643 citizen ID numbers. All numbers are fictional; the check characters are worked
 * out by hand in test/intake/rule-table.ts.
 */
import { describe, expect, it } from 'vitest';
import {
  checkCharacter,
  ID_NUMBER_WEIGHTS,
  inspectIdNumber,
  PROVINCE_CODES,
} from '../../src/intake/id-number.ts';

const SUBMISSION_DATE = '2025-09-29';

describe('citizen ID numbers', () => {
  it('weights are 2^(18-i) mod 11', () => {
    const expected = Array.from({ length: 17 }, (_, index) => 2 ** (17 - index) % 11);
    expect([...ID_NUMBER_WEIGHTS]).toEqual(expected);
  });

  it('computes check characters', () => {
    // Weighted sums 152, 241, 156 and 167 leave 9, 10, 2 and 2 modulo 11.
    expect(checkCharacter('50010620000315123')).toBe('3');
    expect(checkCharacter('50010319720608234')).toBe('2');
    expect(checkCharacter('50010620000315125')).toBe('X');
    expect(checkCharacter('50010620040229002')).toBe('X');
  });

  it('reads birth date and sex', () => {
    expect(inspectIdNumber('500106200003151233', SUBMISSION_DATE)).toEqual({
      ok: true,
      facts: { birthDate: '2000-03-15', sexCode: '1' },
    });
    expect(inspectIdNumber('50010620040229002X', SUBMISSION_DATE)).toEqual({
      ok: true,
      facts: { birthDate: '2004-02-29', sexCode: '2' },
    });
  });

  it('accepts address codes that are no longer districts', () => {
    expect(inspectIdNumber('500221199901010014', SUBMISSION_DATE).ok).toBe(true);
    expect(inspectIdNumber('510212199811110033', SUBMISSION_DATE).ok).toBe(true);
  });

  it('reports each fault of a number', () => {
    expect(inspectIdNumber('500106200003151234', SUBMISSION_DATE)).toEqual({
      ok: false,
      faults: ['check-digit'],
    });
    expect(inspectIdNumber('990106200003151234', SUBMISSION_DATE)).toEqual({
      ok: false,
      faults: ['province'],
    });
    expect(inspectIdNumber('50010620230229003X', SUBMISSION_DATE)).toEqual({
      ok: false,
      faults: ['birth-date'],
    });
    expect(inspectIdNumber('500106203001010019', SUBMISSION_DATE)).toEqual({
      ok: false,
      faults: ['birth-date'],
    });
    // 99 and a wrong check digit together: 261 mod 11 = 8 gives 4, not 5.
    expect(inspectIdNumber('990106200003151235', SUBMISSION_DATE)).toEqual({
      ok: false,
      faults: ['province', 'check-digit'],
    });
  });

  it('rejects malformed numbers as format faults', () => {
    for (const malformed of [
      '50010620000315125x',
      '50010620000315123',
      '500106000315123',
      '5001062000031512 3',
    ]) {
      expect(inspectIdNumber(malformed, SUBMISSION_DATE), malformed).toEqual({
        ok: false,
        faults: ['format'],
      });
    }
  });

  it('accepts a birth date on the submission day only', () => {
    // 20250929 with sequence 001: 35+0+0+5+0+24+4+0+12+15+0+81+20+45+0+0+2 = 243, 243 mod 11 = 1, check 0.
    expect(inspectIdNumber('500106202509290010', SUBMISSION_DATE).ok).toBe(true);
    expect(inspectIdNumber('500106202509290010', '2025-09-28')).toEqual({
      ok: false,
      faults: ['birth-date'],
    });
  });

  it('knows the province-level codes', () => {
    expect(PROVINCE_CODES.size).toBe(34);
    for (const code of ['11', '50', '51', '65', '71', '81', '82'])
      expect(PROVINCE_CODES.has(code), code).toBe(true);
    for (const code of ['00', '10', '16', '24', '38', '47', '55', '66', '83', '99'])
      expect(PROVINCE_CODES.has(code), code).toBe(false);
  });
});
