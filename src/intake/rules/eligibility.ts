/**
 * Eligibility: the bundle serves self-employed discharged NCOs and conscripts who have
 * already done the military service registration change and reserve registration in person.
 * Lateness against the 30- and 40-day limits is not a reason to reject; it is flagged
 * for veterans affairs (see lateness.ts).
 */
import { readBoolean, readDate, readString, type RuleContext } from './context.ts';
import { problem } from '../problems.ts';

/** Placement types (安置方式) other than self-employment; a value outside the list is the schema's to report. */
const OTHER_PLACEMENTS: ReadonlySet<string> = new Set(['job-assignment', 'retirement', 'support']);

export function checkEligibility(ctx: RuleContext): void {
  const placement = readString(ctx.form, '/service/placement');
  if (placement !== undefined && OTHER_PLACEMENTS.has(placement)) {
    ctx.problems.push(problem('LB_ERR_PLACEMENT_UNSUPPORTED', '/service/placement'));
  }
  checkReserveRegistration(ctx);
}

/**
 * Checks the reserve registration, which the applicant completes before applying online.
 * The military service office records it on a classified network that no department
 * system can query, so the case attests it with a date that veterans affairs checks. The
 * registration happens at the settlement place after discharge, so the date cannot
 * precede the discharge date, and it cannot be after the submission.
 */
function checkReserveRegistration(ctx: RuleContext): void {
  const completed = readBoolean(ctx.form, '/service/reserveRegistration/completed');
  if (completed === false) {
    ctx.problems.push(problem('LB_ERR_RESERVE_NOT_COMPLETED', '/service/reserveRegistration/completed'));
    return;
  }
  if (completed !== true) return;

  const dateValue = (ctx.form as { service?: { reserveRegistration?: { date?: unknown } } }).service
    ?.reserveRegistration?.date;
  if (dateValue === undefined) {
    ctx.problems.push(problem('LB_ERR_RESERVE_DATE_MISSING', '/service/reserveRegistration/date'));
    return;
  }
  const date = readDate(ctx.form, '/service/reserveRegistration/date');
  const discharge = readDate(ctx.form, '/service/dischargeDate');
  if (date !== undefined && discharge !== undefined && date < discharge) {
    ctx.problems.push(
      problem('LB_ERR_DATE_ORDER', '/service/reserveRegistration/date', '预备役登记日期不能早于退出现役时间'),
    );
  }
}
