/**
 * Which form fields the police receive for each business code, and under which
 * element names. The adapter reads the form with these tables and the simulator
 * rebuilds a form from the XML with the same tables, so both sides agree. A test keeps
 * the element names and their order equal to the sequences in the WSDL's schema.
 */
import { childNode, childText, containsNonXmlCharacter, type XmlNode } from '../../src/adapters-kit/xml.ts';

export type FieldType = 'text' | 'boolean' | 'date';

export interface FieldMapping {
  /** Element name in the WSDL's schema. */
  element: string;
  /** Path of the value inside the form section. */
  path: readonly string[];
  type: FieldType;
  required: boolean;
}

export interface SectionMapping {
  /** Element name of the section inside SubmitApplicationRequest. */
  element: string;
  /** Complex type of the section in the WSDL's schema. */
  schemaType: string;
  /** Key of the section in the case form. */
  formSection: string;
  fields: readonly FieldMapping[];
}

function field(element: string, path: string, type: FieldType = 'text', required = true): FieldMapping {
  return { element, path: path.split('.'), type, required };
}

function optional(element: string, path: string, type: FieldType = 'text'): FieldMapping {
  return field(element, path, type, false);
}

export const APPLICANT_SECTION: SectionMapping = {
  element: 'Applicant',
  schemaType: 'ApplicantType',
  formSection: 'applicant',
  fields: [
    field('Name', 'name'),
    field('Sex', 'sex'),
    field('IdType', 'idType'),
    field('IdNumber', 'idNumber'),
    field('BirthDate', 'birthDate', 'date'),
    field('Ethnicity', 'ethnicity'),
    field('Phone', 'phone'),
    optional('HouseholdAddress', 'householdAddress'),
    optional('ResidenceAddress', 'residenceAddress'),
    optional('PostalCode', 'postalCode'),
  ],
};

export const SETTLEMENT_SECTION: SectionMapping = {
  element: 'Settlement',
  schemaType: 'SettlementInfoType',
  formSection: 'settlement',
  fields: [
    field('UnitProvince', 'unitLocation.province'),
    field('UnitCity', 'unitLocation.city'),
    field('UnitDistrict', 'unitLocation.district'),
    field('SettlementType', 'type'),
    field('EnlistedOutsideChongqing', 'enlistedOutsideChongqing', 'boolean'),
    optional('HouseholdHeadName', 'householdHead.name'),
    optional('HouseholdHeadRelation', 'householdHead.relation'),
    optional('HouseholdHeadIdNumber', 'householdHead.idNumber'),
    optional('HouseholdHeadPhone', 'householdHead.phone'),
    field('AddressDistrict', 'addressDistrict'),
    optional('Street', 'street'),
    field('DetailAddress', 'detailAddress'),
    optional('DoorplateCode', 'doorplateCode'),
    optional('KinshipProofPaperPending', 'kinshipProofPaperPending', 'boolean'),
  ],
};

export const ID_CARD_REPLACEMENT_SECTION: SectionMapping = {
  element: 'IdCardReplacement',
  schemaType: 'IdCardReplacementType',
  formSection: 'idCardReplacement',
  fields: [field('LossPlace', 'lossPlace'), field('LossDate', 'lossDate', 'date')],
};

export const DELIVERY_SECTION: SectionMapping = {
  element: 'Delivery',
  schemaType: 'DeliveryType',
  formSection: 'delivery',
  fields: [field('Method', 'method')],
};

export const ID_CARD_MAILING_SECTION: SectionMapping = {
  element: 'IdCardMailing',
  schemaType: 'IdCardMailingType',
  formSection: 'idCardMailing',
  fields: [
    field('Province', 'province'),
    field('City', 'city'),
    field('District', 'district'),
    field('Address', 'address'),
    field('Recipient', 'recipient'),
    field('Phone', 'phone'),
  ],
};

export const ALL_SECTIONS: readonly SectionMapping[] = [
  APPLICANT_SECTION,
  SETTLEMENT_SECTION,
  ID_CARD_REPLACEMENT_SECTION,
  DELIVERY_SECTION,
  ID_CARD_MAILING_SECTION,
];

/** Police business codes from the bundle, with the item each one serves. */
export const POLICE_ITEMS = {
  'GA-HJ-TYLH': { itemKey: 'household-settlement', sections: [APPLICANT_SECTION, SETTLEMENT_SECTION] },
  'GA-SFZ-HL': { itemKey: 'id-card-renewal', sections: [APPLICANT_SECTION, DELIVERY_SECTION] },
  'GA-SFZ-BL': {
    itemKey: 'id-card-replacement',
    sections: [APPLICANT_SECTION, ID_CARD_REPLACEMENT_SECTION, DELIVERY_SECTION],
  },
} as const satisfies Record<string, { itemKey: string; sections: readonly SectionMapping[] }>;

export type PoliceBusinessCode = keyof typeof POLICE_ITEMS;

export function isPoliceBusinessCode(code: string): code is PoliceBusinessCode {
  return Object.hasOwn(POLICE_ITEMS, code);
}

/**
 * Returns the sections a business code sends, in schema order. The card items add the
 * mailing address only when the card is mailed.
 */
export function sectionsFor(businessCode: PoliceBusinessCode, deliveryMethod: unknown): SectionMapping[] {
  const sections: SectionMapping[] = [...POLICE_ITEMS[businessCode].sections];
  if (sections.includes(DELIVERY_SECTION) && deliveryMethod === 'mail')
    sections.push(ID_CARD_MAILING_SECTION);
  return sections;
}

/** A form field the department needs is missing or unusable. The message names the field, never its value. */
export class FormFieldError extends Error {
  override name = 'FormFieldError';

  constructor(
    readonly pointer: string,
    problem: string,
  ) {
    super(`form field ${pointer} ${problem}`);
  }
}

const DATE_PATTERN = /^\d{4}-\d{2}-\d{2}$/;

/** Reads the sections' fields from the case form into XML elements, in schema order. */
export function formToElements(form: Record<string, unknown>, sections: readonly SectionMapping[]): XmlNode {
  const elements: XmlNode = {};
  for (const section of sections) {
    elements[section.element] = sectionToElement(form, section);
  }
  return elements;
}

function sectionToElement(form: Record<string, unknown>, section: SectionMapping): XmlNode {
  const element: XmlNode = {};
  for (const mapping of section.fields) {
    const pointer = `/${[section.formSection, ...mapping.path].join('/')}`;
    const value = valueAt(form, [section.formSection, ...mapping.path]);
    const text = fieldText(value, mapping, pointer);
    if (text !== undefined) element[mapping.element] = text;
  }
  return element;
}

function fieldText(value: unknown, mapping: FieldMapping, pointer: string): string | undefined {
  if (value === undefined || value === null || value === '') {
    if (mapping.required) throw new FormFieldError(pointer, 'is missing');
    return undefined;
  }

  switch (mapping.type) {
    case 'boolean':
      if (typeof value !== 'boolean') throw new FormFieldError(pointer, 'must be a boolean');
      return String(value);
    case 'date':
      if (typeof value !== 'string' || !DATE_PATTERN.test(value)) {
        throw new FormFieldError(pointer, 'must be a date YYYY-MM-DD');
      }
      return value;
    case 'text':
      return textValue(value, pointer);
  }
}

function textValue(value: unknown, pointer: string): string {
  if (typeof value === 'number' && Number.isFinite(value)) return String(value);
  if (typeof value !== 'string') throw new FormFieldError(pointer, 'must be text');
  if (containsNonXmlCharacter(value))
    throw new FormFieldError(pointer, 'contains a character XML cannot carry');
  return value;
}

function valueAt(root: unknown, path: readonly string[]): unknown {
  let current = root;
  for (const key of path) {
    if (typeof current !== 'object' || current === null || !Object.hasOwn(current, key)) return undefined;
    current = (current as Record<string, unknown>)[key];
  }
  return current;
}

/**
 * Rebuilds the case form's sections from the XML elements, for the simulator.
 * Returns the pointers of required fields that are missing.
 */
export function elementsToForm(
  request: XmlNode,
  sections: readonly SectionMapping[],
): { form: Record<string, unknown>; missing: string[] } {
  const form: Record<string, unknown> = {};
  const missing: string[] = [];
  for (const section of sections) {
    const element = childNode(request, section.element);
    for (const mapping of section.fields) {
      const text = element ? childText(element, mapping.element) : undefined;
      const path = [section.formSection, ...mapping.path];
      if (text === undefined || text === '') {
        if (mapping.required) missing.push(`/${path.join('/')}`);
        continue;
      }
      setValueAt(form, path, mapping.type === 'boolean' ? text === 'true' : text);
    }
  }
  return { form, missing };
}

function setValueAt(root: Record<string, unknown>, path: readonly string[], value: unknown): void {
  let current = root;
  for (const key of path.slice(0, -1)) {
    const next = current[key];
    if (typeof next === 'object' && next !== null) {
      current = next as Record<string, unknown>;
    } else {
      const created: Record<string, unknown> = {};
      current[key] = created;
      current = created;
    }
  }
  const last = path[path.length - 1];
  if (last !== undefined) current[last] = value;
}
