/**
 * Due times per item against the bundle and the notice's time limits. Immediate items
 * (即时办结) are due at the end of the receiving working day, the others 1, 2 or 3 working
 * days later. Receipt after closing or on a day off counts from the next working day.
 * Expected dates are worked out by hand from the 2025 arrangements (国庆·中秋 10-01..10-08
 * off, Saturday 10-11 worked).
 */
import { describe, expect, it } from 'vitest';
import { createDefaultCalendar } from '../../src/calendar/index.ts';
import { createItemPresenter } from '../../src/orchestration/presenter.ts';
import type { ItemRecord } from '../../src/store/records.ts';
import { bundle } from './support/cases.ts';

const calendar = createDefaultCalendar();

/** Working-day limits from the notice's service table; null for the item that needs no application. */
const NOTICE_LIMITS: Record<string, number | null> = {
  'veteran-check-in': 0,
  'lump-sum-grant': 0,
  'training-eligibility': 3,
  'household-settlement': 2,
  'id-card-renewal': 2,
  'id-card-replacement': 2,
  'employee-pension-enrollment': 1,
  'resident-pension-enrollment': 1,
  'military-pension-transfer': null,
  'social-security-card-application': 1,
  'social-security-card-reissue': 1,
  'employee-medical-enrollment': 1,
  'resident-medical-enrollment': 1,
  'employee-medical-change': 1,
  'resident-medical-change': 1,
  'medical-insurance-transfer': 3,
};

/** Due dates by limit for three receipts, counted by hand. */
const DUE_DATES: Array<{ title: string; receivedAt: string; byLimit: Record<number, string> }> = [
  {
    // Receipt day 09-30 not counted; 10-09 (1), 10-10 (2), worked Saturday 10-11 (3).
    title: 'in office hours on the last working day before National Day',
    receivedAt: '2025-09-30T10:00:00+08:00',
    byLimit: { 0: '2025-09-30', 1: '2025-10-09', 2: '2025-10-10', 3: '2025-10-11' },
  },
  {
    // After closing, 10-09 becomes the receipt day; 10-10 (1), 10-11 (2), 10-12 Sunday off, 10-13 (3).
    title: 'after closing on the last working day before National Day',
    receivedAt: '2025-09-30T17:30:00+08:00',
    byLimit: { 0: '2025-10-09', 1: '2025-10-10', 2: '2025-10-11', 3: '2025-10-13' },
  },
  {
    // A holiday receipt counts from 10-09 as well.
    title: 'on a day of the National Day holiday',
    receivedAt: '2025-10-03T10:00:00+08:00',
    byLimit: { 0: '2025-10-09', 1: '2025-10-10', 2: '2025-10-11', 3: '2025-10-13' },
  },
];

describe('item due times', () => {
  it('bundle limits match the notice', () => {
    const fromBundle = Object.fromEntries(
      bundle.items.map((item) => [item.key, item.deadline ? item.deadline.workingDays : null]),
    );
    expect(fromBundle).toEqual(NOTICE_LIMITS);
  });

  for (const { title, receivedAt, byLimit } of DUE_DATES) {
    it(`counts every item received ${title}`, () => {
      for (const [itemKey, limit] of Object.entries(NOTICE_LIMITS)) {
        if (limit === null) continue;
        const workingDays = bundle.item(itemKey).deadline?.workingDays ?? -1;
        const due = calendar.dueAt(new Date(receivedAt), workingDays);
        expect(due.dueAt, itemKey).toBe(`${byLimit[limit]}T23:59:59+08:00`);
        expect(due.provisional, itemKey).toBe(false);
      }
    });
  }

  it('counts the medical transfer from the voucher it carries', () => {
    // The limit runs from receipt of the transfer voucher ⑨; the voucher is sent with the
    // item itself, so the department receives both at once.
    const transfer = bundle.item('medical-insurance-transfer');
    expect(transfer.deadline?.from).toBe('medicalTransferVoucher');
    expect(transfer.needs).toContain('medicalTransferVoucher');
    expect(bundle.material('medicalTransferVoucher')?.source).toBe('upload');
  });
});

describe('due time shown to the platform', () => {
  const present = createItemPresenter(bundle);

  function item(itemKey: string, fields: Partial<ItemRecord> = {}): ItemRecord {
    return {
      caseId: 'LBTEST-1',
      itemKey,
      department: bundle.item(itemKey).department,
      state: 'submitted',
      version: 1,
      waitsFor: [],
      takes: [],
      idempotencyKey: 'key',
      documents: [],
      updatedAt: '2025-09-30T02:00:00.000Z',
      receivedAt: '2025-09-30T10:00:00+08:00',
      dueAt: '2025-10-10T23:59:59+08:00',
      ...fields,
    };
  }

  // The notice leaves card production and delivery, payment arrival and the training
  // itself out of these limits.
  it.each([
    ['id-card-renewal', '制证'],
    ['id-card-replacement', '制证'],
    ['lump-sum-grant', '到账'],
    ['training-eligibility', '培训'],
  ])('carries what %s excludes', (itemKey, excluded) => {
    expect(present(item(itemKey)).dueExcludes).toContain(excluded);
  });

  it('leaves the note out without a due time', () => {
    expect(present(item('id-card-renewal', { dueAt: undefined })).dueExcludes).toBeUndefined();
  });

  it('has no note where nothing is excluded', () => {
    expect(present(item('household-settlement')).dueExcludes).toBeUndefined();
  });

  it('shows a warning raised for the current due time', () => {
    const warned = item('household-settlement', {
      deadlineWarning: 'at-risk',
      deadlineWarningDueAt: '2025-10-10T23:59:59+08:00',
    });
    expect(present(warned).deadlineWarning).toBe('at-risk');
  });

  it('drops a warning after a recomputed due time', () => {
    const recomputed = item('household-settlement', {
      dueAt: '2025-10-13T23:59:59+08:00',
      deadlineWarning: 'at-risk',
      deadlineWarningDueAt: '2025-10-10T23:59:59+08:00',
    });
    expect(present(recomputed).deadlineWarning).toBeUndefined();
  });

  it('drops a warning once the item is finished', () => {
    const finished = item('household-settlement', {
      state: 'completed',
      deadlineWarning: 'overdue',
      deadlineWarningDueAt: '2025-10-10T23:59:59+08:00',
    });
    expect(present(finished).deadlineWarning).toBeUndefined();
  });
});
