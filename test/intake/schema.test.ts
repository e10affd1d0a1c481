import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import { describe, expect, it } from 'vitest';

// ajv-formats is CommonJS: under Node's ESM loader its default import is the plugin itself.
const addFormats = formatsModule as unknown as typeof formatsModule.default;

type Json = Record<string, unknown>;

interface CodeTable {
  key: string;
  name: string;
  source: string;
  notes: string[];
  values: {
    code: string;
    label: string;
    kind?: string;
    placeholder?: boolean;
    verified?: boolean;
    validFrom?: string;
    validTo?: string;
  }[];
}

function readJson<T>(relativePath: string): T {
  return JSON.parse(readFileSync(new URL(relativePath, import.meta.url), 'utf8')) as T;
}

const CONTRACT = '../../contracts/veteran-service/';
const schema = readJson<Json & { $defs: Record<string, { enum?: string[] }> }>(`${CONTRACT}case.schema.json`);
const bundle = readJson<{ items: { key: string }[]; materials: Record<string, { source: string }> }>(
  `${CONTRACT}bundle.json`,
);
const typicalCase = readJson<Json>('../../examples/case-typical.json');

const CODE_TABLES: Record<string, string> = {
  sexCode: 'sex.json',
  idTypeCode: 'id-types.json',
  householdTypeCode: 'household-types.json',
  educationCode: 'education.json',
  ethnicityCode: 'ethnic-groups.json',
  householdRelationCode: 'household-relations.json',
  districtCode: 'districts.json',
};

function readCodeTable(fileName: string): CodeTable {
  return readJson<CodeTable>(`${CONTRACT}codes/${fileName}`);
}

/** District codes a case submitted on `date` may carry (validFrom and validTo are inclusive). */
function valuesInForce(date: string): CodeTable['values'] {
  return readCodeTable('districts.json').values.filter(
    (value) => (value.validFrom ?? '0000-00-00') <= date && date <= (value.validTo ?? '9999-99-99'),
  );
}

function countInForce(date: string): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const value of valuesInForce(date)) counts[value.kind ?? ''] = (counts[value.kind ?? ''] ?? 0) + 1;
  return counts;
}

const ajv = new Ajv2020({ strict: true, allErrors: true });
addFormats(ajv);
const validate = ajv.compile(schema);

/** Validates a copy of the typical case after `change` edits it and returns the errors. */
function errorsAfter(change: (draft: Json) => void): ErrorObject[] {
  const draft = structuredClone(typicalCase);
  change(draft);
  validate(draft);
  return validate.errors ?? [];
}

function section(draft: Json, name: string): Json {
  return draft[name] as Json;
}

function failures(errors: ErrorObject[]): string[] {
  return errors.map((error) => `${error.instancePath} ${error.keyword}`);
}

describe('case schema', () => {
  it('accepts the typical case as it is', () => {
    expect(validate(structuredClone(typicalCase)), JSON.stringify(validate.errors)).toBe(true);
  });

  it('accepts only the required sections', () => {
    const errors = errorsAfter((draft) => {
      for (const name of [
        'settlement',
        'idCardMailing',
        'pension',
        'medicalInsurance',
        'socialSecurityCard',
        'employment',
      ]) {
        delete draft[name];
      }
      draft.items = ['veteran-check-in'];
    });
    expect(errors).toEqual([]);
  });

  it('accepts the sections the typical case lacks', () => {
    const errors = errorsAfter((draft) => {
      draft.idCardReplacement = { lossPlace: '重庆市沙坪坝区测试路', lossDate: '2025-09-01' };
      draft.medicalInsuranceChange = {
        field: 'phone',
        oldValue: '13800000000',
        newValue: '13900000000',
        reason: '更换手机号码',
      };
    });
    expect(errors).toEqual([]);
  });

  it('requires the sections every case has', () => {
    const errors = errorsAfter((draft) => {
      delete draft.service;
      delete draft.applicant;
      delete draft.delivery;
      delete draft.declaration;
    });
    const missing = errors
      .map((error) => (error.params as { missingProperty?: string }).missingProperty)
      .sort();
    expect(missing).toEqual(['applicant', 'declaration', 'delivery', 'service']);
  });

  it('rejects unknown fields at every level', () => {
    const errors = errorsAfter((draft) => {
      draft.nickname = '测试';
      section(draft, 'applicant').nickname = '测试';
      section(section(draft, 'applicant'), 'bankAccount').cvv = '123';
      section(draft, 'declaration').extra = true;
    });
    expect(failures(errors).sort()).toEqual([
      ' additionalProperties',
      '/applicant additionalProperties',
      '/applicant/bankAccount additionalProperties',
      '/declaration additionalProperties',
    ]);
  });

  it('rejects values of the wrong type', () => {
    const errors = errorsAfter((draft) => {
      section(draft, 'applicant').sex = 1;
      section(draft, 'medicalInsurance').transferMilitaryAccount = 'true';
      section(draft, 'employment').expectedMonthlySalaryYuan = '6000';
    });
    expect(failures(errors)).toContain('/applicant/sex enum');
    expect(failures(errors)).toContain('/medicalInsurance/transferMilitaryAccount type');
    expect(failures(errors)).toContain('/employment/expectedMonthlySalaryYuan type');
  });

  it('rejects an out-of-range salary', () => {
    for (const salary of [-1, 6000.5, 1_000_001]) {
      const errors = errorsAfter((draft) => {
        section(draft, 'employment').expectedMonthlySalaryYuan = salary;
      });
      expect(errors.length, String(salary)).toBeGreaterThan(0);
      expect(errors[0]?.instancePath).toBe('/employment/expectedMonthlySalaryYuan');
    }
  });

  it('rejects dates that are not calendar dates', () => {
    const errors = errorsAfter((draft) => {
      section(draft, 'applicant').birthDate = '2001-02-29';
      section(draft, 'service').dischargeDate = '2025/09/12';
    });
    expect(failures(errors).sort()).toEqual(['/applicant/birthDate format', '/service/dischargeDate format']);
  });

  it('rejects a timestamp without an offset', () => {
    const errors = errorsAfter((draft) => {
      draft.submittedAt = '2025-09-29T09:42:10';
    });
    expect(failures(errors)).toEqual(['/submittedAt format']);
  });

  it('rejects codes outside the code tables', () => {
    const errors = errorsAfter((draft) => {
      draft.district = '510106';
      section(draft, 'applicant').ethnicity = '57';
      section(draft, 'applicant').education = '50';
      section(draft, 'applicant').idType = '414';
      section(section(draft, 'settlement'), 'householdHead').relation = '98';
    });
    expect(failures(errors).sort()).toEqual([
      '/applicant/education enum',
      '/applicant/ethnicity enum',
      '/applicant/idType enum',
      '/district enum',
      '/settlement/householdHead/relation enum',
    ]);
  });

  it('rejects duplicate, unknown and missing items', () => {
    expect(failures(errorsAfter((draft) => void (draft.items = [])))).toEqual(['/items minItems']);
    expect(
      failures(errorsAfter((draft) => void (draft.items = ['veteran-check-in', 'veteran-check-in'])))[0],
    ).toBe('/items uniqueItems');
    expect(failures(errorsAfter((draft) => void (draft.items = ['reserve-registration'])))).toEqual([
      '/items/0 enum',
    ]);
  });

  it('rejects another bundle and an unknown channel', () => {
    const errors = errorsAfter((draft) => {
      draft.bundle = 'enterprise-service';
      draft.channel = 'fax';
    });
    expect(failures(errors).sort()).toEqual(['/bundle const', '/channel enum']);
  });

  it('rejects a declaration that was not agreed', () => {
    const errors = errorsAfter((draft) => {
      section(draft, 'declaration').agreed = false;
    });
    expect(failures(errors)).toEqual(['/declaration/agreed const']);
  });

  it('rejects malformed identity and contact fields', () => {
    const errors = errorsAfter((draft) => {
      const applicant = section(draft, 'applicant');
      applicant.idNumber = '50010620000315123x';
      applicant.phone = '2800000000';
      applicant.postalCode = '40003';
      section(applicant, 'bankAccount').cardNumber = '6217 0000 0000 0000 004';
    });
    expect(failures(errors).sort()).toEqual([
      '/applicant/bankAccount/cardNumber pattern',
      '/applicant/idNumber pattern',
      '/applicant/phone pattern',
      '/applicant/postalCode pattern',
    ]);
  });

  it('accepts a Chongqing fixed line', () => {
    const errors = errorsAfter((draft) => {
      section(draft, 'applicant').phone = '023-65100000';
    });
    expect(errors).toEqual([]);
  });

  it('rejects empty, long or multi-line text', () => {
    const errors = errorsAfter((draft) => {
      const applicant = section(draft, 'applicant');
      applicant.name = '';
      applicant.contactAddress = '测'.repeat(201);
      applicant.residenceAddress = '重庆市\n沙坪坝区';
    });
    expect(failures(errors).sort()).toEqual([
      '/applicant/contactAddress maxLength',
      '/applicant/name minLength',
      '/applicant/name pattern',
      '/applicant/residenceAddress pattern',
    ]);
  });

  it('accepts a long-term ID card validity', () => {
    const errors = errorsAfter((draft) => {
      section(draft, 'socialSecurityCard').idValidTo = 'long-term';
    });
    expect(errors).toEqual([]);
  });

  it('rejects malformed platform case ids', () => {
    for (const platformCaseId of ['YKB-500106:1', 'ykb-500106-1', `YKB-${'1'.repeat(70)}`, 'YKB']) {
      const errors = errorsAfter((draft) => {
        draft.platformCaseId = platformCaseId;
      });
      expect(errors.length, platformCaseId).toBeGreaterThan(0);
    }
  });

  it('accepts materials in base64 by material key', () => {
    const errors = errorsAfter((draft) => {
      draft.materials = {
        photo: { mediaType: 'image/jpeg', dataBase64: Buffer.from('fictional').toString('base64') },
        kinshipProof: { mediaType: 'application/pdf', dataBase64: 'JVBERi0xLjcK' },
      };
    });
    expect(errors).toEqual([]);
  });

  it('rejects unknown or malformed materials', () => {
    const errors = errorsAfter((draft) => {
      draft.materials = {
        selfie: { mediaType: 'image/jpeg', dataBase64: 'AAAA' },
        photo: { mediaType: 'image/jpeg', dataBase64: 'not base64!' },
        dischargeCertificate: { mediaType: 'application/pdf' },
        idCardFront: { mediaType: 'image/jpeg', dataBase64: '' },
      };
    });
    expect(failures(errors).sort()).toEqual([
      '/materials additionalProperties',
      '/materials/dischargeCertificate required',
      '/materials/idCardFront/dataBase64 pattern',
      '/materials/photo/dataBase64 pattern',
    ]);
  });
});

describe('case schema contract', () => {
  it('lists exactly the item keys of the bundle', () => {
    expect(schema.$defs.itemKey?.enum).toEqual(bundle.items.map((item) => item.key));
  });

  it('lists exactly the uploaded materials of the bundle', () => {
    const uploads = Object.entries(bundle.materials)
      .filter(([, material]) => material.source === 'upload')
      .map(([key]) => key);
    const properties =
      (schema.properties as Record<string, { properties: Json }>).materials?.properties ?? {};
    expect(Object.keys(properties)).toEqual(uploads);
  });

  for (const [definition, fileName] of Object.entries(CODE_TABLES)) {
    it(`keeps ${definition} equal to codes/${fileName}`, () => {
      const table = readCodeTable(fileName);
      expect(schema.$defs[definition]?.enum).toEqual(table.values.map((value) => value.code));
    });
  }

  it('describes every property', () => {
    const undescribed: string[] = [];
    const visit = (node: unknown, pointer: string): void => {
      if (typeof node !== 'object' || node === null) return;
      const properties = (node as { properties?: Record<string, Json> }).properties ?? {};
      for (const [name, property] of Object.entries(properties)) {
        if (typeof property.description !== 'string') undescribed.push(`${pointer}/${name}`);
        visit(property, `${pointer}/${name}`);
      }
      for (const [name, child] of Object.entries((node as { $defs?: Record<string, Json> }).$defs ?? {})) {
        visit(child, `#/$defs/${name}`);
      }
    };
    visit(schema, '');
    expect(undescribed).toEqual([]);
  });
});

describe('code tables', () => {
  it('have unique codes, labels and a source', () => {
    for (const fileName of Object.values(CODE_TABLES)) {
      const table = readCodeTable(fileName);
      const codes = table.values.map((value) => value.code);
      expect(new Set(codes).size, fileName).toBe(codes.length);
      expect(table.source.length, fileName).toBeGreaterThan(0);
      for (const value of table.values)
        expect(value.label.length, `${fileName} ${value.code}`).toBeGreaterThan(0);
    }
  });

  it('list 56 ethnic groups plus 97 and 98', () => {
    const codes = readCodeTable('ethnic-groups.json').values.map((value) => value.code);
    const expected = Array.from({ length: 56 }, (_, index) => String(index + 1).padStart(2, '0'));
    expect(codes).toEqual([...expected, '97', '98']);
  });

  it('list the Chongqing districts and counties before the 2025 reorganisation', () => {
    // 26 districts, 8 counties and 4 autonomous counties, and three functional areas.
    expect(countInForce('2025-09-29')).toEqual({ district: 26, county: 12, 'functional-area': 3 });
  });

  it('list the Chongqing districts and counties after the 2025 reorganisation', () => {
    // 江北区 and 渝北区 became 两江新区: 25 districts, 8 counties and 4 autonomous counties.
    expect(countInForce('2026-01-25')).toEqual({ district: 25, county: 12, 'functional-area': 2 });
  });

  it('accept old and new codes during the changeover', () => {
    const inForce = (date: string): string[] => valuesInForce(date).map((value) => value.code);
    expect(inForce('2025-11-06')).not.toContain('500157');
    expect(inForce('2025-11-07')).toEqual(expect.arrayContaining(['500105', '500112', '500157']));
    expect(inForce('2026-01-24')).toEqual(expect.arrayContaining(['500105', '500112', '500157']));
    expect(inForce('2026-01-25')).not.toContain('500105');
    expect(inForce('2026-01-25')).not.toContain('500112');
  });

  it('give every district a six-digit Chongqing code and dates', () => {
    for (const value of readCodeTable('districts.json').values) {
      expect(value.code, value.label).toMatch(/^50[0-9]{4}$/);
      for (const date of [value.validFrom, value.validTo]) {
        if (date !== undefined) expect(date, value.code).toMatch(/^20[0-9]{2}-[0-9]{2}-[0-9]{2}$/);
      }
    }
  });

  it('mark functional area codes as unverified placeholders', () => {
    const table = readCodeTable('districts.json');
    const functionalAreas = table.values.filter((value) => value.kind === 'functional-area');
    expect(functionalAreas.every((value) => value.placeholder === true)).toBe(true);
    expect(functionalAreas.every((value) => value.verified === false)).toBe(true);
    expect(table.notes.some((note) => note.startsWith('PLACEHOLDER, UNVERIFIED'))).toBe(true);
  });

  it('give sex codes their GB/T 2261.1 labels', () => {
    const labels = Object.fromEntries(
      readCodeTable('sex.json').values.map((value) => [value.code, value.label]),
    );
    expect(labels).toEqual({ '0': '未知的性别', '1': '男', '2': '女', '9': '未说明的性别' });
  });
});
