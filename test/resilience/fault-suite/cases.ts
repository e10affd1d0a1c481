/**
 * Cases of the fault suite: the fictional typical case, valid variations of it, and
 * cases that a department refuses. The variations are ID card replacement, resident
 * pension, no settlement, pickup, resident medical insurance, card reissue, a medical
 * data change, and only check-in with the grant. Each case has its own platform case id
 * and the final states the bundle's rules predict for it.
 */
import type { SimulatedDecision, SimulatedSubmission } from '../../../src/adapters-kit/simulator.ts';
import { loadBundle } from '../../../src/bundle/bundle.ts';
import { makeScannedDocument, makeTypicalMaterials, type DemoMaterial } from '../../../src/demo/materials.ts';
import { CaseValidator } from '../../../src/intake/validate.ts';
import type { CaseStatus, ItemState } from '../../../src/store/records.ts';
import { typicalCase } from '../../support/gateway-env.ts';

/** Fictional markers that make a department simulator refuse an item. */
export const REFUSAL_MARKERS = {
  /** An applicant name veterans affairs refuses at check-in, which cancels the whole case. */
  checkInName: '测试拒办甲',
  /** A pension community hrss refuses, which cancels the social security card that waits on it. */
  pensionCommunity: '测试拒绝社区',
  /** A trade veterans affairs refuses training eligibility for; nothing waits on it. */
  trainingTrade: '测试拒绝工种',
} as const;

export const SIMULATED_REFUSAL = {
  reason: '模拟不予受理：本件为故障测试中预设的拒绝（虚构）。',
  legalBasis: '《故障测试规则（虚构）》第一条',
};

type Form = Record<string, unknown> & { platformCaseId: string; items: string[] };

type Variation = (form: Form) => void;

const OPTIONAL_SECTIONS = [
  'settlement',
  'idCardReplacement',
  'idCardMailing',
  'pension',
  'medicalInsurance',
  'medicalInsuranceChange',
  'socialSecurityCard',
  'employment',
];

const SECTION_TEMPLATES: Record<string, unknown> = {
  idCardReplacement: { lossPlace: '重庆市沙坪坝区测试路', lossDate: '2025-09-01' },
  medicalInsuranceChange: {
    field: 'phone',
    oldValue: '13800000000',
    newValue: '13800000001',
    reason: '更换联系电话（虚构）',
  },
};

function swapItem(form: Form, from: string, to: string): void {
  form.items = form.items.map((item) => (item === from ? to : item));
}

function section(form: Form, name: string): Record<string, unknown> {
  return form[name] as Record<string, unknown>;
}

const VARIATIONS: Record<string, Variation> = {
  replacement: (form) => swapItem(form, 'id-card-renewal', 'id-card-replacement'),
  residentPension: (form) => swapItem(form, 'employee-pension-enrollment', 'resident-pension-enrollment'),
  noSettlement: (form) => {
    form.items = form.items.filter((item) => item !== 'household-settlement');
  },
  pickup: (form) => {
    form.delivery = { method: 'pickup' };
  },
  residentMedical: (form) => {
    swapItem(form, 'employee-medical-enrollment', 'resident-medical-enrollment');
    form.items = form.items.filter((item) => item !== 'medical-insurance-transfer');
  },
  cardReissue: (form) => {
    swapItem(form, 'social-security-card-application', 'social-security-card-reissue');
    section(form, 'socialSecurityCard').businessType = 'reissue';
  },
  medicalChange: (form) => {
    swapItem(form, 'employee-medical-enrollment', 'employee-medical-change');
    section(form, 'medicalInsurance').previouslyInsuredInChongqing = true;
  },
  minimal: (form) => {
    form.items = ['veteran-check-in', 'lump-sum-grant'];
  },
  refusePension: (form) => {
    section(form, 'pension').community = REFUSAL_MARKERS.pensionCommunity;
  },
  refuseTraining: (form) => {
    section(form, 'employment').trade = REFUSAL_MARKERS.trainingTrade;
  },
  refuseCheckIn: (form) => {
    section(form, 'applicant').name = REFUSAL_MARKERS.checkInName;
  },
};

/** Combinations cycled over the cases; every tenth case is refused by a department somewhere. */
const SCHEDULE: string[][] = [
  [],
  ['replacement'],
  ['residentPension'],
  ['noSettlement'],
  ['pickup'],
  ['residentMedical'],
  ['cardReissue'],
  ['medicalChange'],
  ['minimal'],
  ['replacement', 'residentPension', 'pickup'],
  ['noSettlement', 'residentMedical'],
  ['cardReissue', 'medicalChange', 'replacement'],
  ['refusePension'],
  [],
  ['noSettlement', 'pickup', 'cardReissue'],
  ['refuseTraining'],
  ['residentPension', 'residentMedical'],
  ['refuseCheckIn'],
  ['replacement', 'noSettlement'],
  ['refusePension', 'cardReissue'],
];

export interface FaultCase {
  platformCaseId: string;
  /** Names of the variations applied, `typical` when none. */
  variant: string;
  json: string;
  materials: Record<string, DemoMaterial>;
  expectedStatus: CaseStatus;
  expectedItems: Record<string, ItemState>;
}

/** Builds `count` valid cases and checks each against the gateway's own validator first. */
export async function buildFaultCases(count: number): Promise<FaultCase[]> {
  const bundle = loadBundle();
  const validator = new CaseValidator(bundle);
  const available = await availableMaterials();
  const cases: FaultCase[] = [];

  for (let index = 0; index < count; index += 1) {
    const names = SCHEDULE[index % SCHEDULE.length] ?? [];
    const form = typicalCase() as Form;
    form.platformCaseId = `YKB-500106-20250929-F${String(index + 1).padStart(5, '0')}`;
    for (const name of names) VARIATIONS[name]?.(form);
    fitSections(validator, form);

    const materials = pickMaterials(validator, form, available);
    const uploads = Object.fromEntries(
      Object.entries(materials).map(([key, m]) => [key, { content: m.content }]),
    );
    const checked = await validator.validate(form, uploads);
    if (!checked.ok) {
      const codes = checked.problems.map((problem) => `${problem.code} ${problem.pointer}`).join('; ');
      throw new Error(`fault suite case variant ${names.join('+') || 'typical'} is invalid: ${codes}`);
    }

    cases.push({
      platformCaseId: form.platformCaseId,
      variant: names.join('+') || 'typical',
      json: JSON.stringify(form),
      materials,
      ...expectOutcome(form, names),
    });
  }
  return cases;
}

/** Keeps exactly the sections the selected items need, adding the ones the typical case lacks. */
function fitSections(validator: CaseValidator, form: Form): void {
  const needed = validator.neededSections(form, new Set(form.items));
  for (const name of OPTIONAL_SECTIONS) {
    if (!needed.has(name)) delete form[name];
    else if (form[name] === undefined) form[name] = structuredClone(SECTION_TEMPLATES[name]);
  }
}

function pickMaterials(
  validator: CaseValidator,
  form: Form,
  available: Record<string, DemoMaterial>,
): Record<string, DemoMaterial> {
  const { required } = validator.neededMaterials(form, new Set(form.items));
  const picked: Record<string, DemoMaterial> = {};
  for (const material of required) {
    const file = available[material];
    if (!file) throw new Error(`the fault suite has no fictional file for material ${material}`);
    picked[material] = file;
  }
  return picked;
}

async function availableMaterials(): Promise<Record<string, DemoMaterial>> {
  return {
    ...(await makeTypicalMaterials()),
    residenceProof: {
      mediaType: 'application/pdf',
      content: await makeScannedDocument('合法稳定住所证明（虚构测试材料）'),
    },
  };
}

/** Final states the bundle's rules predict: a refused item rejects, and what waits on it is cancelled. */
function expectOutcome(form: Form, names: string[]): Pick<FaultCase, 'expectedStatus' | 'expectedItems'> {
  const items: Record<string, ItemState> = {};
  for (const item of form.items)
    items[item] = item === 'military-pension-transfer' ? 'not_required' : 'completed';

  if (names.includes('refuseCheckIn')) {
    for (const item of Object.keys(items)) if (items[item] === 'completed') items[item] = 'cancelled';
    items['veteran-check-in'] = 'rejected';
    return { expectedStatus: 'rejected', expectedItems: items };
  }
  if (names.includes('refusePension')) {
    const pension = form.items.find((item) => item.endsWith('pension-enrollment'));
    const card = form.items.find((item) => item.startsWith('social-security-card'));
    if (pension) items[pension] = 'rejected';
    if (card) items[card] = 'cancelled';
  }
  if (names.includes('refuseTraining')) items['training-eligibility'] = 'rejected';

  const allDone = Object.values(items).every((state) => state === 'completed' || state === 'not_required');
  return { expectedStatus: allDone ? 'completed' : 'partially_completed', expectedItems: items };
}

/** Decides each simulated submission: the refusal markers reject, everything else completes. */
export function decideForSuite(submission: SimulatedSubmission): SimulatedDecision {
  const form = submission.form as Record<string, Record<string, unknown> | undefined>;
  const refused =
    (submission.businessCode === 'VA-CHECKIN' && form.applicant?.name === REFUSAL_MARKERS.checkInName) ||
    (submission.businessCode === 'VA-TRAINING' && form.employment?.trade === REFUSAL_MARKERS.trainingTrade) ||
    (/^SB0[12]01$/.test(submission.businessCode) &&
      form.pension?.community === REFUSAL_MARKERS.pensionCommunity);
  return refused
    ? { status: 'rejected', code: 'SIM-REFUSED', ...SIMULATED_REFUSAL }
    : { status: 'completed' };
}
