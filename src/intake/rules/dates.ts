/**
 * Dates against the submission date and against each other. The schema's `date` format
 * decides whether a date is a real calendar date (2023-02-29 is not, 2024-02-29 is), so
 * these rules only compare dates that passed it.
 */
import { readDate, readString, type RuleContext } from './context.ts';
import { labelledProblem, problem } from '../problems.ts';

/** Dates of past events: none may fall after the submission date. */
const PAST_DATES: ReadonlyArray<{ pointer: string; label: string }> = [
  { pointer: '/applicant/birthDate', label: '出生日期' },
  { pointer: '/applicant/workStartDate', label: '参加工作日期' },
  { pointer: '/service/dischargeDate', label: '退出现役时间' },
  { pointer: '/service/reserveRegistration/date', label: '预备役登记日期' },
  { pointer: '/idCardReplacement/lossDate', label: '遗失日期' },
  { pointer: '/socialSecurityCard/idValidFrom', label: '证件有效期起' },
];

/** Pairs that must be in this order: `earlier` strictly before `later`. */
const ORDERED_DATES: ReadonlyArray<{ earlier: string; later: string; rule: string }> = [
  { earlier: '/applicant/birthDate', later: '/applicant/workStartDate', rule: '参加工作日期应晚于出生日期' },
  { earlier: '/applicant/birthDate', later: '/service/dischargeDate', rule: '退出现役时间应晚于出生日期' },
  {
    earlier: '/socialSecurityCard/idValidFrom',
    later: '/socialSecurityCard/idValidTo',
    rule: '证件有效期起应早于证件有效期止',
  },
];

/** Allowed difference between the platform's clock and the gateway's. */
export const CLOCK_SKEW_MS = 5 * 60 * 1000;

export function checkDates(ctx: RuleContext): void {
  for (const { pointer, label } of PAST_DATES) {
    const date = readDate(ctx.form, pointer);
    if (date !== undefined && date > ctx.submissionDate) {
      ctx.problems.push(labelledProblem('LB_ERR_DATE_IN_FUTURE', pointer, label));
    }
  }
  for (const { earlier, later, rule } of ORDERED_DATES) {
    const first = readDate(ctx.form, earlier);
    const second = readDate(ctx.form, later);
    if (first !== undefined && second !== undefined && first >= second) {
      ctx.problems.push(problem('LB_ERR_DATE_ORDER', later, rule));
    }
  }
  checkTimestamps(ctx);
}

/** Checks `submittedAt` (stamped by the platform) and `signedAt` (the applicant signs before submitting). */
function checkTimestamps(ctx: RuleContext): void {
  const submittedMs = parseTimestamp(readString(ctx.form, '/submittedAt'));
  if (submittedMs !== undefined && submittedMs > ctx.now.getTime() + CLOCK_SKEW_MS) {
    ctx.problems.push(problem('LB_ERR_DATE_SUBMITTED_IN_FUTURE', '/submittedAt'));
  }

  const signedMs = parseTimestamp(readString(ctx.form, '/declaration/signedAt'));
  if (signedMs !== undefined && submittedMs !== undefined && signedMs > submittedMs + CLOCK_SKEW_MS) {
    ctx.problems.push(
      problem('LB_ERR_DATE_ORDER', '/declaration/signedAt', '申请（签名）时间不能晚于申报时间'),
    );
  }
}

/** Parses an ISO 8601 timestamp with an offset; anything the schema rejects reads as undefined. */
export function parseTimestamp(value: string | undefined): number | undefined {
  if (value === undefined || !/^\d{4}-\d{2}-\d{2}T.*(Z|[+-]\d{2}:\d{2})$/i.test(value)) return undefined;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? undefined : ms;
}
