/**
 * Citizen ID numbers of the applicant and of the household head (GB 11643). The
 * applicant's number must also agree with the birth date and sex on the form. The head
 * has neither on the form, so only the number itself is checked.
 */
import type { ErrorDetail } from '../../api/errors.ts';
import { inspectIdNumber, type IdNumberFacts, type IdNumberFault } from '../id-number.ts';
import { problem, type ProblemCode } from '../problems.ts';
import { readDate, readString, type RuleContext } from './context.ts';

const FAULT_PROBLEMS: Record<Exclude<IdNumberFault, 'format'>, ProblemCode> = {
  province: 'LB_ERR_ID_PROVINCE',
  'birth-date': 'LB_ERR_ID_BIRTH_DATE',
  'check-digit': 'LB_ERR_ID_CHECK_DIGIT',
};

export function checkIdentity(ctx: RuleContext): void {
  const facts = checkIdNumber(ctx, '/applicant/idNumber');
  if (facts) checkAgreement(ctx, facts);
  checkIdNumber(ctx, '/settlement/householdHead/idNumber');
}

/** Adds the number's faults and returns what it encodes; a malformed number is left to the schema. */
function checkIdNumber(ctx: RuleContext, pointer: string): IdNumberFacts | undefined {
  const idNumber = readString(ctx.form, pointer);
  if (idNumber === undefined) return undefined;

  const result = inspectIdNumber(idNumber, ctx.submissionDate);
  if (result.ok) return result.facts;
  for (const fault of result.faults) {
    if (fault !== 'format') ctx.problems.push(problem(FAULT_PROBLEMS[fault], pointer));
  }
  return undefined;
}

function checkAgreement(ctx: RuleContext, facts: IdNumberFacts): void {
  const found: ErrorDetail[] = [];
  const birthDate = readDate(ctx.form, '/applicant/birthDate');
  if (birthDate !== undefined && birthDate !== facts.birthDate) {
    found.push(problem('LB_ERR_ID_BIRTH_DATE_MISMATCH', '/applicant/birthDate'));
  }
  // A sex code outside GB/T 2261.1 is the schema's to report; 0 and 9 are codes but disagree with any number.
  const sex = readString(ctx.form, '/applicant/sex');
  const isCode = ctx.codes.table('sexCode').values.some((value) => value.code === sex);
  if (sex !== undefined && isCode && sex !== facts.sexCode) {
    found.push(problem('LB_ERR_ID_SEX_MISMATCH', '/applicant/sex'));
  }
  ctx.problems.push(...found);
}
