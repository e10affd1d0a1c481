/**
 * The national code tables a case refers to (contracts/<bundle>/codes/*.json): sex
 * (GB/T 2261.1), ethnic group (GB 3304), relation to the household head (GB/T 4761),
 * education (GB/T 4658), ID type, household type and Chongqing's district codes with
 * the dates between which each district code is accepted.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { CONTRACTS_DIR } from '../bundle/bundle.ts';

export interface CodeValue {
  code: string;
  label: string;
  kind?: string;
  /** First day (inclusive, YYYY-MM-DD) a case may carry the code; absent means always. */
  validFrom?: string;
  /** Last day (inclusive) a case may carry the code; absent means still in force. */
  validTo?: string;
  placeholder?: boolean;
  verified?: boolean;
}

export interface CodeTable {
  key: string;
  name: string;
  source: string;
  notes: string[];
  values: CodeValue[];
}

/** Schema `$defs` names of the enums that repeat a code table, with the table's file name. */
export const CODE_TABLE_FILES = {
  sexCode: 'sex.json',
  idTypeCode: 'id-types.json',
  householdTypeCode: 'household-types.json',
  educationCode: 'education.json',
  ethnicityCode: 'ethnic-groups.json',
  householdRelationCode: 'household-relations.json',
  districtCode: 'districts.json',
} as const;

export type CodeTableName = keyof typeof CODE_TABLE_FILES;

export class CodeTables {
  private readonly tables = new Map<CodeTableName, CodeTable>();

  constructor(bundleKey: string, contractsDir = CONTRACTS_DIR) {
    for (const [name, file] of Object.entries(CODE_TABLE_FILES) as Array<[CodeTableName, string]>) {
      const path = join(contractsDir, bundleKey, 'codes', file);
      this.tables.set(name, JSON.parse(readFileSync(path, 'utf8')) as CodeTable);
    }
  }

  table(name: CodeTableName): CodeTable {
    const table = this.tables.get(name);
    if (!table) throw new Error(`code table ${name} is not loaded`);
    return table;
  }

  /** Returns the district with this code when a case submitted on `date` may carry it. */
  districtOn(code: string, date: string): CodeValue | undefined {
    return this.table('districtCode').values.find((value) => value.code === code && isInForce(value, date));
  }

  /** Lists the districts a case submitted on `date` may carry, as `code label`, for messages. */
  describeDistrictsOn(date: string): string {
    const values = this.table('districtCode').values.filter((value) => isInForce(value, date));
    return describeValues(values);
  }

  /** Lists every value of a table as `code label`, for messages that name the allowed values. */
  describe(name: CodeTableName): string {
    return describeValues(this.table(name).values);
  }
}

/** Tells whether a code is accepted on `date`; dates compare as text because all are YYYY-MM-DD. */
export function isInForce(value: CodeValue, date: string): boolean {
  if (value.validFrom !== undefined && date < value.validFrom) return false;
  return value.validTo === undefined || date <= value.validTo;
}

function describeValues(values: readonly CodeValue[]): string {
  return values.map((value) => `${value.code} ${value.label}`).join('、');
}
