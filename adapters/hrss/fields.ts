/**
 * Which form fields hrss receives for each transaction code, and under which element
 * names. The adapter reads the form with these tables and the simulator rebuilds a form
 * from the packet with the same tables. A test keeps them equal to the sequences in
 * contracts/hrss/hrss-packet.xsd.
 */
import { isGbkEncodable } from './packet.ts';
import { childNode, childText, containsNonXmlCharacter, type XmlNode } from '../../src/adapters-kit/xml.ts';

/** `flag` is a boolean written as the department's `1` or `0`. */
export type FieldType = 'text' | 'flag' | 'date';

export interface FieldMapping {
  /** Element name in the packet schema. */
  element: string;
  /** Path of the value inside the form section. */
  path: readonly string[];
  type: FieldType;
  required: boolean;
}

export interface SectionMapping {
  /** Element name of the section inside the body. */
  element: string;
  /** Complex type of the section in the packet schema. */
  schemaType: string;
  /** Key of the section in the case form. */
  formSection: string;
  fields: readonly FieldMapping[];
}

function field(element: string, path: string, type: FieldType = 'text', required = true): FieldMapping {
  return { element, path: path.split('.'), type, required };
}

function optional(element: string, path: string): FieldMapping {
  return field(element, path, 'text', false);
}

export const PERSON_SECTION: SectionMapping = {
  element: 'person',
  schemaType: 'PersonType',
  formSection: 'applicant',
  fields: [
    field('name', 'name'),
    field('sex', 'sex'),
    field('idType', 'idType'),
    field('idNumber', 'idNumber'),
    field('birthDate', 'birthDate', 'date'),
    field('ethnicity', 'ethnicity'),
    field('phone', 'phone'),
    optional('householdType', 'householdType'),
    optional('education', 'education'),
    optional('address', 'contactAddress'),
    optional('postalCode', 'postalCode'),
  ],
};

export const PENSION_SECTION: SectionMapping = {
  element: 'pension',
  schemaType: 'PensionType',
  formSection: 'pension',
  fields: [field('district', 'district'), field('township', 'township'), field('community', 'community')],
};

export const CARD_SECTION: SectionMapping = {
  element: 'card',
  schemaType: 'CardType',
  formSection: 'socialSecurityCard',
  fields: [
    field('issuer', 'issuer'),
    field('businessType', 'businessType'),
    field('nationality', 'nationality'),
    field('occupation', 'occupation'),
    field('bank', 'bank'),
    field('taxResidency', 'taxResidency'),
    field('idValidFrom', 'idValidFrom', 'date'),
    field('idValidTo', 'idValidTo', 'date'),
    field('activateFinancialOutsideCity', 'activateFinancialOutsideCity', 'flag'),
  ],
};

export const ALL_SECTIONS: readonly SectionMapping[] = [PERSON_SECTION, PENSION_SECTION, CARD_SECTION];

/** hrss transaction codes (the bundle's business codes), with the item each one serves. */
export const HRSS_ITEMS = {
  SB0101: { itemKey: 'employee-pension-enrollment', sections: [PERSON_SECTION, PENSION_SECTION] },
  SB0201: { itemKey: 'resident-pension-enrollment', sections: [PERSON_SECTION, PENSION_SECTION] },
  SK0101: { itemKey: 'social-security-card-application', sections: [PERSON_SECTION, CARD_SECTION] },
  SK0102: { itemKey: 'social-security-card-reissue', sections: [PERSON_SECTION, CARD_SECTION] },
} as const satisfies Record<string, { itemKey: string; sections: readonly SectionMapping[] }>;

export type HrssTranCode = keyof typeof HRSS_ITEMS;

export function isHrssTranCode(code: string): code is HrssTranCode {
  return Object.hasOwn(HRSS_ITEMS, code);
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

/** Reads the sections' fields from the case form into packet elements, in schema order. */
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
    const path = [section.formSection, ...mapping.path];
    const text = fieldText(valueAt(form, path), mapping, `/${path.join('/')}`);
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
    case 'flag':
      if (typeof value !== 'boolean') throw new FormFieldError(pointer, 'must be a boolean');
      return value ? '1' : '0';
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
  // GBK lacks the CJK Extension B ideographs of some rare names, and an encoder would write `?` for them.
  if (!isGbkEncodable(value)) {
    throw new FormFieldError(pointer, 'contains a character outside GBK, which the hrss system cannot store');
  }
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
 * Rebuilds the case form's sections from the packet body, for the simulator.
 * Returns the pointers of required fields that are missing.
 */
export function elementsToForm(
  body: XmlNode,
  sections: readonly SectionMapping[],
): { form: Record<string, unknown>; missing: string[] } {
  const form: Record<string, unknown> = {};
  const missing: string[] = [];
  for (const section of sections) {
    const element = childNode(body, section.element);
    for (const mapping of section.fields) {
      const text = element ? childText(element, mapping.element) : undefined;
      const path = [section.formSection, ...mapping.path];
      if (text === undefined || text === '') {
        if (mapping.required) missing.push(`/${path.join('/')}`);
        continue;
      }
      setValueAt(form, path, mapping.type === 'flag' ? text === '1' : text);
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
