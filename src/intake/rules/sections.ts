/**
 * Rules on the form's sections: a section is required exactly when a selected item uses
 * it, and a few fields of a section are required only for some items or situations.
 */
import { conditionHolds, type Bundle } from '../../bundle/bundle.ts';
import { isPresent, readString, type RuleContext } from './context.ts';
import { problem } from '../problems.ts';

/** Card business types (社保卡业务类型) each card item accepts. */
const CARD_BUSINESS_TYPES: Record<string, readonly string[]> = {
  'social-security-card-application': ['first-application'],
  'social-security-card-reissue': ['reissue', 'replacement', 'renewal'],
};

const KINSHIP_SETTLEMENT_TYPES: ReadonlySet<string> = new Set(['with-parents', 'with-parents-in-law']);

/**
 * Sections the selected items need. Mailed results go to the address of `idCardMailing`
 * whatever the items, so delivery by mail needs that section too.
 */
export function neededSections(bundle: Bundle, form: unknown, selected: ReadonlySet<string>): Set<string> {
  const needed = new Set(bundle.definition.alwaysSections);
  for (const itemKey of selected) {
    const item = bundle.item(itemKey);
    for (const section of item.sections) needed.add(section);
    for (const rule of item.sectionsWhen ?? []) if (conditionHolds(rule, form)) needed.add(rule.section);
  }
  if (readString(form, '/delivery/method') === 'mail') needed.add('idCardMailing');
  return needed;
}

export function knownSections(bundle: Bundle): Set<string> {
  const known = new Set(bundle.definition.alwaysSections);
  for (const item of bundle.items) {
    for (const section of item.sections) known.add(section);
    for (const rule of item.sectionsWhen ?? []) known.add(rule.section);
  }
  return known;
}

export function checkSections(ctx: RuleContext): void {
  if (ctx.form === null || typeof ctx.form !== 'object' || Array.isArray(ctx.form)) return;
  const needed = neededSections(ctx.bundle, ctx.form, ctx.selected);

  for (const section of knownSections(ctx.bundle)) {
    const present = isPresent(ctx.form, `/${section}`);
    if (needed.has(section) && !present) {
      ctx.problems.push(problem('LB_ERR_SECTION_MISSING', `/${section}`, usersOf(ctx, section)));
    }
    if (!needed.has(section) && present)
      ctx.problems.push(problem('LB_ERR_SECTION_NOT_NEEDED', `/${section}`));
  }

  checkTransferInDistrict(ctx);
  checkCardBusinessType(ctx);
  checkKinshipPaper(ctx);
}

/** Names the selected items that use a section, for the message of a missing section. */
function usersOf(ctx: RuleContext, section: string): string | undefined {
  const names = [...ctx.selected]
    .map((key) => ctx.bundle.item(key))
    .filter(
      (item) =>
        item.sections.includes(section) || item.sectionsWhen?.some((rule) => rule.section === section),
    )
    .map((item) => `“${item.name}”`);
  if (section === 'idCardMailing') names.push('邮寄送达');
  return names.length > 0 ? `${names.join('、')}需要本部分` : undefined;
}

/** Requires the transfer-in district (转入地区划), where the medical insurance relation moves to. */
function checkTransferInDistrict(ctx: RuleContext): void {
  if (!ctx.selected.has('medical-insurance-transfer') || !isPresent(ctx.form, '/medicalInsurance')) return;
  if (isPresent(ctx.form, '/medicalInsurance/transferInDistrict')) return;
  ctx.problems.push(
    problem(
      'LB_ERR_FIELD_REQUIRED',
      '/medicalInsurance/transferInDistrict',
      '办理医保关系转移接续须填写转入地区划',
    ),
  );
}

function checkCardBusinessType(ctx: RuleContext): void {
  const businessType = readString(ctx.form, '/socialSecurityCard/businessType');
  if (businessType === undefined) return;
  for (const [itemKey, allowed] of Object.entries(CARD_BUSINESS_TYPES)) {
    if (!ctx.selected.has(itemKey) || allowed.includes(businessType)) continue;
    ctx.problems.push(
      problem(
        'LB_ERR_CARD_BUSINESS_TYPE',
        '/socialSecurityCard/businessType',
        `“${ctx.bundle.item(itemKey).name}”的业务类型应为 ${allowed.join('、')}`,
      ),
    );
  }
}

/** Requires the promise of the kinship proof's paper original, which veterans affairs collects for police. */
function checkKinshipPaper(ctx: RuleContext): void {
  if (!ctx.selected.has('household-settlement')) return;
  const type = readString(ctx.form, '/settlement/type');
  if (type === undefined || !KINSHIP_SETTLEMENT_TYPES.has(type)) return;
  if (
    (ctx.form as { settlement?: { kinshipProofPaperPending?: unknown } }).settlement
      ?.kinshipProofPaperPending === true
  )
    return;
  ctx.problems.push(problem('LB_ERR_SETTLEMENT_KINSHIP_PAPER', '/settlement/kinshipProofPaperPending'));
}
