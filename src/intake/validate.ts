/**
 * Validation of a submitted case: the JSON Schema contract first, then the rules a schema
 * cannot express (item selection, sections, eligibility, ID numbers, dates, code validity,
 * character sets, materials and their content). Every problem is collected, so one answer
 * lists them all (一次性告知). The rules are listed in docs/intake-rules.md.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import type { ErrorDetail } from '../api/errors.ts';
import { CONTRACTS_DIR, type Bundle } from '../bundle/bundle.ts';
import { CodeTables } from './code-tables.ts';
import { checkHrssCharset } from './rules/charset.ts';
import { checkContact, checkDistrictValidity } from './rules/contact.ts';
import { readString, shanghaiDate, type RuleContext } from './rules/context.ts';
import { checkDates, parseTimestamp } from './rules/dates.ts';
import { checkEligibility } from './rules/eligibility.ts';
import { checkIdentity } from './rules/identity.ts';
import {
  checkMaterials,
  neededMaterials,
  type CheckedMaterial,
  type UploadedMaterial,
} from './rules/materials.ts';
import { checkSections, neededSections } from './rules/sections.ts';
import { checkSelection, selectedItems } from './rules/selection.ts';
import { SchemaErrorTranslator } from './schema-errors.ts';

export type { CheckedMaterial, UploadedMaterial };

// ajv-formats is CommonJS: under Node's ESM loader its default import is the plugin itself.
const addFormats = formatsModule as unknown as typeof formatsModule.default;

export type ValidationResult =
  | { ok: true; materials: Record<string, CheckedMaterial>; warnings: ErrorDetail[] }
  | { ok: false; problems: ErrorDetail[]; warnings: ErrorDetail[] };

export interface CaseValidatorOptions {
  /** The current instant; tests fix it. */
  now?: () => Date;
  contractsDir?: string;
}

export class CaseValidator {
  private readonly validateSchema;
  private readonly codes: CodeTables;
  private readonly translator: SchemaErrorTranslator;
  private readonly districtPointers: string[];
  private readonly now: () => Date;

  constructor(
    private readonly bundle: Bundle,
    options: CaseValidatorOptions = {},
  ) {
    const contractsDir = options.contractsDir ?? CONTRACTS_DIR;
    const schema = JSON.parse(
      readFileSync(join(contractsDir, bundle.key, 'case.schema.json'), 'utf8'),
    ) as Record<string, unknown>;
    // No type coercion and no removal of extra fields: what the applicant sent is what is
    // checked. Lengths count code points (ajv's default `unicode: true`), so 𠀀 is one character.
    const ajv = new Ajv2020({ allErrors: true, strict: false, coerceTypes: false, removeAdditional: false });
    addFormats(ajv);
    this.validateSchema = ajv.compile(schema);
    this.codes = new CodeTables(bundle.key, contractsDir);
    const itemNames = new Map(bundle.items.map((item) => [item.key, item.name]));
    this.translator = new SchemaErrorTranslator(schema, this.codes, itemNames);
    this.districtPointers = pointersOfDefinition(schema, '#/$defs/districtCode');
    this.now = options.now ?? (() => new Date());
  }

  get schema(): object {
    return this.validateSchema.schema as object;
  }

  /**
   * Validates a case. `transportProblems` are problems the route already found in the
   * request's framing (unknown multipart parts, bad base64), so that they are reported
   * together with the form's.
   */
  async validate(
    form: unknown,
    uploads: Record<string, UploadedMaterial>,
    transportProblems: readonly ErrorDetail[] = [],
  ): Promise<ValidationResult> {
    const now = this.now();
    const submittedMs = parseTimestamp(readString(form, '/submittedAt'));
    const submissionDate = shanghaiDate(submittedMs === undefined ? now : new Date(submittedMs));
    const ctx: RuleContext = {
      form,
      bundle: this.bundle,
      codes: this.codes,
      selected: selectedItems({ form, bundle: this.bundle }),
      submissionDate,
      now,
      problems: [...transportProblems],
      warnings: [],
    };

    if (!this.validateSchema(form)) {
      ctx.problems.push(...this.translator.translate(this.validateSchema.errors, submissionDate));
    }
    this.checkRules(ctx);
    const materials = await checkMaterials(ctx, uploads);

    if (ctx.problems.length > 0) return { ok: false, problems: ctx.problems, warnings: ctx.warnings };
    return { ok: true, materials, warnings: ctx.warnings };
  }

  /** Sections every selected item needs; a section no selected item needs is rejected. */
  neededSections(form: unknown, selected: ReadonlySet<string>): Set<string> {
    return neededSections(this.bundle, form, selected);
  }

  /** Required and optional uploaded materials of the selected items. */
  neededMaterials(
    form: unknown,
    selected: ReadonlySet<string>,
  ): { required: Set<string>; optional: Set<string> } {
    return neededMaterials(this.bundle, form, selected);
  }

  private checkRules(ctx: RuleContext): void {
    checkSelection(ctx);
    checkSections(ctx);
    checkEligibility(ctx);
    checkIdentity(ctx);
    checkDates(ctx);
    checkDistrictValidity(ctx, this.districtPointers);
    checkContact(ctx);
    checkHrssCharset(ctx);
  }
}

/** Instance pointers of every property whose schema refers to `ref` (objects only, no arrays). */
function pointersOfDefinition(schema: Record<string, unknown>, ref: string): string[] {
  const pointers: string[] = [];
  const visit = (node: unknown, pointer: string): void => {
    if (node === null || typeof node !== 'object') return;
    if ((node as { $ref?: unknown }).$ref === ref) pointers.push(pointer);
    const properties = (node as { properties?: Record<string, unknown> }).properties ?? {};
    for (const [name, child] of Object.entries(properties)) visit(child, `${pointer}/${name}`);
  };
  visit(schema, '');
  return pointers;
}
