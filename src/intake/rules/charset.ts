/**
 * The hrss system stores text in GBK, which lacks many rare characters (among them the
 * CJK Extension B ideographs of some names, such as 𠀀). Intake and lengths count such a
 * character as one character, like every other, but a case that would send one to hrss
 * cannot be handled online: the adapter could only replace it with `?`. Intake therefore
 * rejects it when an hrss item is selected, with a message that sends the applicant to the window.
 * Without an hrss item the same text is accepted, because no other department's system
 * has this limit.
 */
import iconv from 'iconv-lite';
import { readString, type RuleContext } from './context.ts';
import { problem } from '../problems.ts';

/**
 * Free-text fields of the form that the hrss interface carries (the person, pension and
 * card sections). The other fields it carries are codes, dates and digits. A test keeps
 * this list equal to the hrss adapter's field tables.
 */
export const HRSS_TEXT_POINTERS = [
  '/applicant/name',
  '/applicant/contactAddress',
  '/pension/township',
  '/pension/community',
  '/socialSecurityCard/issuer',
  '/socialSecurityCard/bank',
] as const;

export function checkHrssCharset(ctx: RuleContext): void {
  const hrssItems = [...ctx.selected]
    .map((key) => ctx.bundle.item(key))
    .filter((item) => item.department === 'hrss' && ctx.bundle.callsDepartment(item));
  if (hrssItems.length === 0) return;

  const names = hrssItems.map((item) => `“${item.name}”`).join('、');
  for (const pointer of HRSS_TEXT_POINTERS) {
    const text = readString(ctx.form, pointer);
    if (text === undefined || isGbkEncodable(text)) continue;
    ctx.problems.push(problem('LB_ERR_TEXT_NOT_GBK', pointer, `涉及的事项：${names}`));
  }
}

/** Tells whether every character of the text survives a round trip through GBK. */
export function isGbkEncodable(text: string): boolean {
  return iconv.decode(iconv.encode(text, 'gbk'), 'gbk') === text;
}
