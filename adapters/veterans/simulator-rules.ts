/**
 * Application checks of the simulated veterans affairs system, run before it issues a
 * receipt: required fields (400), then refusals (422) that a clerk would give at once.
 */
import { sha256Hex } from '../../src/adapters-kit/index.ts';
import { BUSINESS_CODES, REFUSAL_CODE_PREFIX, type ApplicationBody, type ErrorBody } from './protocol.ts';

export interface RuleViolation {
  status: 400 | 422;
  body: ErrorBody;
}

/** A fictional but plausible basis: the service rules that come with the bundle's notice. */
const SERVICE_RULES = '《重庆市退役军人服务“一件事”办理人服务规范》';

const COMMON_STRING_FIELDS = [
  'business_code',
  'reference',
  'applicant.name',
  'applicant.id_type',
  'applicant.id_number',
];

const ITEM_STRING_FIELDS: Record<string, string[]> = {
  [BUSINESS_CODES.checkIn]: [
    'applicant.sex',
    'applicant.birth_date',
    'service.category',
    'service.placement',
    'service.discharge_date',
  ],
  [BUSINESS_CODES.lumpSumGrant]: ['bank_account.card_number', 'bank_account.bank_name'],
  [BUSINESS_CODES.trainingEligibility]: ['employment.trade'],
};

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Returns the first problem with an application, or undefined when it may be received. */
export function checkApplication(body: unknown): RuleViolation | undefined {
  const commonField = COMMON_STRING_FIELDS.find((path) => !isNonEmptyString(readPath(body, path)));
  if (commonField !== undefined) return invalidRequest(commonField);
  const application = body as ApplicationBody;

  const itemFields = ITEM_STRING_FIELDS[application.business_code];
  if (itemFields === undefined) {
    return refusal(
      'unsupported_business',
      `退役军人事务部门不办理业务编码为“${application.business_code}”的事项，请核对申请事项。`,
      `${SERVICE_RULES}所列退役军人事务部门联办事项`,
    );
  }
  const itemField = itemFields.find((path) => !isNonEmptyString(readPath(body, path)));
  if (itemField !== undefined) return invalidRequest(itemField);

  const materialField = findInvalidMaterial(application.materials);
  if (materialField !== undefined) return invalidRequest(materialField);

  if (application.business_code === BUSINESS_CODES.checkIn) return checkReserveRegistration(body);
  return undefined;
}

/** Refuses check-in unless the reserve registration (预备役登记), done in person at the military office, is complete. */
function checkReserveRegistration(body: unknown): RuleViolation | undefined {
  const completed = readPath(body, 'service.reserve_registration.completed');
  if (typeof completed !== 'boolean') return invalidRequest('service.reserve_registration.completed');
  if (completed) return undefined;
  return refusal(
    'reserve_registration_incomplete',
    '申请人尚未完成预备役登记，请先到安置地区县人民武装部办理预备役登记，再申请退役报到。',
    '《中华人民共和国兵役法》第十七条',
  );
}

/** Returns the path of the first material entry that is malformed or whose SHA-256 does not match. */
function findInvalidMaterial(materials: unknown): string | undefined {
  if (!Array.isArray(materials)) return 'materials';
  for (const [index, material] of materials.entries()) {
    const path = `materials[${index}]`;
    for (const key of ['material', 'media_type', 'sha256', 'content_base64']) {
      if (!isNonEmptyString(readPath(material, key))) return `${path}.${key}`;
    }
    const { sha256, content_base64: contentBase64 } = material as { sha256: string; content_base64: string };
    if (!SHA256_HEX.test(sha256) || sha256Hex(Buffer.from(contentBase64, 'base64')) !== sha256) {
      return `${path}.sha256`;
    }
  }
  return undefined;
}

export function invalidRequest(field: string): RuleViolation {
  return {
    status: 400,
    body: { error: { code: 'invalid_request', message: `field ${field} is missing or invalid`, field } },
  };
}

function refusal(code: string, message: string, legalBasis: string): RuleViolation {
  return {
    status: 422,
    body: { error: { code: `${REFUSAL_CODE_PREFIX}${code}`, message, legal_basis: legalBasis } },
  };
}

function readPath(value: unknown, path: string): unknown {
  let current = value;
  for (const segment of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[segment];
  }
  return current;
}

function isNonEmptyString(value: unknown): value is string {
  return typeof value === 'string' && value !== '';
}
