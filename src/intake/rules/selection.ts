/**
 * Rules on the selected items: 退役报到 always, at most one item of each exclusion group,
 * and the medical insurance transfer's need for employee enrollment.
 */
import { readBoolean, type RuleContext } from './context.ts';
import { problem } from '../problems.ts';

const TRANSFER = 'medical-insurance-transfer';
const EMPLOYEE_MEDICAL_ENROLLMENT = 'employee-medical-enrollment';

/** Returns the known item keys of the form's `items`; unknown keys are left to the schema. */
export function selectedItems(ctx: Pick<RuleContext, 'form' | 'bundle'>): Set<string> {
  const raw = (ctx.form as { items?: unknown } | null)?.items;
  if (!Array.isArray(raw)) return new Set();
  return new Set(raw.filter((item): item is string => typeof item === 'string' && ctx.bundle.hasItem(item)));
}

export function checkSelection(ctx: RuleContext): void {
  const items = (ctx.form as { items?: unknown } | null)?.items;
  if (Array.isArray(items) && !ctx.selected.has(ctx.bundle.definition.firstItem)) {
    ctx.problems.push(problem('LB_ERR_ITEMS_CHECK_IN_MISSING', '/items'));
  }
  checkExclusions(ctx);
  checkTransferNeedsEnrollment(ctx);
}

function checkExclusions(ctx: RuleContext): void {
  for (const group of ctx.bundle.definition.exclusionGroups) {
    const chosen = group.items.filter((item) => ctx.selected.has(item));
    if (chosen.length < 2) continue;
    const names = chosen.map((item) => `“${ctx.bundle.item(item).name}”`).join('与');
    ctx.problems.push(problem('LB_ERR_ITEMS_EXCLUSIVE', '/items', `${names}（${group.name}）`));
  }
}

/**
 * Requires employee enrollment with the transfer when the applicant needs it. The
 * medical insurance office accepts the transfer of an applicant who was not insured in
 * Chongqing before only after enrolling them in employee insurance as an individual, so
 * the transfer alone cannot be handled for them. Someone already in Chongqing's employee
 * insurance needs only the transfer voucher.
 */
function checkTransferNeedsEnrollment(ctx: RuleContext): void {
  if (!ctx.selected.has(TRANSFER) || ctx.selected.has(EMPLOYEE_MEDICAL_ENROLLMENT)) return;
  if (readBoolean(ctx.form, '/medicalInsurance/previouslyInsuredInChongqing') !== false) return;
  ctx.problems.push(problem('LB_ERR_ITEMS_TRANSFER_NEEDS_ENROLLMENT', '/items'));
}
