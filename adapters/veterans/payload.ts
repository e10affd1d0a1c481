/**
 * Builds the application body for veterans affairs from a submission. Each item gets
 * only the applicant data it needs: check-in the identity and service record, the
 * lump-sum grant the bank account, training eligibility the employment section.
 */
import { PermanentDepartmentError, type SubmissionRequest } from '../../src/adapters-kit/index.ts';
import {
  BUSINESS_CODES,
  type ApplicantPayload,
  type ApplicationBody,
  type BankAccountPayload,
  type EmploymentPayload,
  type MaterialPayload,
  type ServicePayload,
} from './protocol.ts';

type Form = Record<string, unknown>;
type ItemSections = Pick<ApplicationBody, 'applicant' | 'service' | 'bank_account' | 'employment'>;

const SECTION_BUILDERS: Record<string, (form: Form) => ItemSections> = {
  [BUSINESS_CODES.checkIn]: (form) => ({
    applicant: {
      ...readIdentity(form),
      sex: requireString(form, 'applicant.sex'),
      birth_date: requireString(form, 'applicant.birthDate'),
    },
    service: readService(form),
  }),
  [BUSINESS_CODES.lumpSumGrant]: (form) => ({
    applicant: readIdentity(form),
    bank_account: readBankAccount(form),
  }),
  [BUSINESS_CODES.trainingEligibility]: (form) => ({
    applicant: readIdentity(form),
    employment: readEmployment(form),
  }),
};

export function buildApplicationBody(request: SubmissionRequest): ApplicationBody {
  // An unknown business code still goes out with the identity only, because the
  // department decides what it handles, and its refusal reaches the applicant with a reason.
  const buildSections =
    SECTION_BUILDERS[request.businessCode] ?? ((form: Form) => ({ applicant: readIdentity(form) }));
  return {
    business_code: request.businessCode,
    reference: request.reference,
    callback_url: request.callbackUrl,
    ...buildSections(request.form),
    materials: request.materials.map((document): MaterialPayload => ({
      material: document.material,
      media_type: document.mediaType,
      sha256: document.sha256,
      content_base64: document.content.toString('base64'),
    })),
  };
}

function readIdentity(form: Form): ApplicantPayload {
  return {
    name: requireString(form, 'applicant.name'),
    id_type: requireString(form, 'applicant.idType'),
    id_number: requireString(form, 'applicant.idNumber'),
  };
}

function readService(form: Form): ServicePayload {
  const completed = requireBoolean(form, 'service.reserveRegistration.completed');
  const date = optionalString(form, 'service.reserveRegistration.date');
  return {
    category: requireString(form, 'service.category'),
    placement: requireString(form, 'service.placement'),
    discharge_date: requireString(form, 'service.dischargeDate'),
    reserve_registration: date === undefined ? { completed } : { completed, date },
  };
}

function readBankAccount(form: Form): BankAccountPayload {
  return {
    card_number: requireString(form, 'applicant.bankAccount.cardNumber'),
    bank_name: requireString(form, 'applicant.bankAccount.bankName'),
  };
}

function readEmployment(form: Form): EmploymentPayload {
  const employment: EmploymentPayload = { trade: requireString(form, 'employment.trade') };
  const location = optionalString(form, 'employment.preferredLocation');
  if (location !== undefined) employment.preferred_location = location;
  const salary = readPath(form, 'employment.expectedMonthlySalaryYuan');
  if (typeof salary === 'number') employment.expected_monthly_salary_yuan = salary;
  const guidance = readPath(form, 'employment.wantsEntrepreneurshipGuidance');
  if (typeof guidance === 'boolean') employment.wants_entrepreneurship_guidance = guidance;
  return employment;
}

function readPath(form: Form, path: string): unknown {
  let value: unknown = form;
  for (const segment of path.split('.')) {
    if (value === null || typeof value !== 'object') return undefined;
    value = (value as Record<string, unknown>)[segment];
  }
  return value;
}

/** Builds the error for a missing form field, a gateway defect that retrying cannot fix. */
function missingField(path: string, expected: string): PermanentDepartmentError {
  return new PermanentDepartmentError('veterans', `case form field ${path} is missing or not ${expected}`);
}

function requireString(form: Form, path: string): string {
  const value = readPath(form, path);
  if (typeof value !== 'string' || value === '') throw missingField(path, 'a non-empty string');
  return value;
}

function optionalString(form: Form, path: string): string | undefined {
  const value = readPath(form, path);
  return typeof value === 'string' && value !== '' ? value : undefined;
}

function requireBoolean(form: Form, path: string): boolean {
  const value = readPath(form, path);
  if (typeof value !== 'boolean') throw missingField(path, 'a boolean');
  return value;
}
