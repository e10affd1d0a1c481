/**
 * Validation of a submitted case: the JSON Schema contract first, then the rules a
 * schema cannot express (item selection, sections, materials and their content).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { Ajv2020 } from 'ajv/dist/2020.js';
import formatsModule from 'ajv-formats';
import type { ErrorDetail } from '../api/errors.ts';
import { CONTRACTS_DIR, conditionHolds, readPointer, type Bundle } from '../bundle/bundle.ts';
import { problem } from './problems.ts';
import { schemaProblems } from './schema-errors.ts';
import { readImageSize, sniffDocument } from './sniff.ts';

// ajv-formats is CommonJS: under Node's ESM loader its default import is the plugin itself.
const addFormats = formatsModule as unknown as typeof formatsModule.default;

export interface UploadedMaterial {
  content: Buffer;
  /** What the client declared; recorded for the audit trail but never trusted. */
  declaredType?: string;
}

export interface CheckedMaterial {
  content: Buffer;
  mediaType: string;
}

export type ValidationResult =
  { ok: true; materials: Record<string, CheckedMaterial> } | { ok: false; problems: ErrorDetail[] };

export class CaseValidator {
  private readonly validateSchema;

  constructor(private readonly bundle: Bundle) {
    const schema = JSON.parse(
      readFileSync(join(CONTRACTS_DIR, bundle.key, 'case.schema.json'), 'utf8'),
    ) as object;
    // No type coercion and no removal of extra fields: what the applicant sent is what is checked.
    const ajv = new Ajv2020({ allErrors: true, strict: false, coerceTypes: false, removeAdditional: false });
    addFormats(ajv);
    this.validateSchema = ajv.compile(schema);
  }

  get schema(): object {
    return this.validateSchema.schema as object;
  }

  async validate(form: unknown, uploads: Record<string, UploadedMaterial>): Promise<ValidationResult> {
    const problems: ErrorDetail[] = [];
    if (!this.validateSchema(form)) problems.push(...schemaProblems(this.validateSchema.errors));

    const selected = this.selectionProblems(form, problems);
    this.sectionProblems(form, selected, problems);
    this.eligibilityProblems(form, problems);
    const materials = await this.materialProblems(form, selected, uploads, problems);

    return problems.length > 0 ? { ok: false, problems } : { ok: true, materials };
  }

  private selectionProblems(form: unknown, problems: ErrorDetail[]): Set<string> {
    const raw = readPointer(form, '/items');
    const items = Array.isArray(raw) ? raw.filter((item): item is string => typeof item === 'string') : [];
    const selected = new Set(items.filter((item) => this.bundle.hasItem(item)));

    items.forEach((item, index) => {
      if (!this.bundle.hasItem(item)) problems.push(problem('LB_ERR_ITEMS_UNKNOWN', `/items/${index}`, item));
    });
    if (Array.isArray(raw) && !selected.has(this.bundle.definition.firstItem)) {
      problems.push(problem('LB_ERR_ITEMS_CHECK_IN_MISSING', '/items'));
    }
    for (const group of this.bundle.definition.exclusionGroups) {
      const chosen = group.items.filter((item) => selected.has(item));
      if (chosen.length > 1) {
        const names = chosen.map((item) => `「${this.bundle.item(item).name}」`).join('与');
        problems.push(problem('LB_ERR_ITEMS_EXCLUSIVE', '/items', names));
      }
    }
    return selected;
  }

  /** Sections every selected item needs; a section no selected item needs is refused. */
  neededSections(form: unknown, selected: ReadonlySet<string>): Set<string> {
    const needed = new Set(this.bundle.definition.alwaysSections);
    for (const itemKey of selected) {
      const item = this.bundle.item(itemKey);
      for (const section of item.sections) needed.add(section);
      for (const rule of item.sectionsWhen ?? []) if (conditionHolds(rule, form)) needed.add(rule.section);
    }
    return needed;
  }

  private knownSections(): Set<string> {
    const known = new Set(this.bundle.definition.alwaysSections);
    for (const item of this.bundle.items) {
      for (const section of item.sections) known.add(section);
      for (const rule of item.sectionsWhen ?? []) known.add(rule.section);
    }
    return known;
  }

  private sectionProblems(form: unknown, selected: ReadonlySet<string>, problems: ErrorDetail[]): void {
    if (form === null || typeof form !== 'object') return;
    const needed = this.neededSections(form, selected);
    for (const section of this.knownSections()) {
      const present = (form as Record<string, unknown>)[section] !== undefined;
      if (needed.has(section) && !present) problems.push(problem('LB_ERR_SECTION_MISSING', `/${section}`));
      if (!needed.has(section) && present) problems.push(problem('LB_ERR_SECTION_NOT_NEEDED', `/${section}`));
    }
  }

  private eligibilityProblems(form: unknown, problems: ErrorDetail[]): void {
    const placement = readPointer(form, '/service/placement');
    if (placement !== undefined && placement !== 'self-employment') {
      problems.push(problem('LB_ERR_PLACEMENT_UNSUPPORTED', '/service/placement'));
    }
    if (readPointer(form, '/declaration/agreed') === false) {
      problems.push(problem('LB_ERR_DECLARATION_NOT_AGREED', '/declaration/agreed'));
    }
  }

  /** Required and optional uploaded materials of the selected items. */
  neededMaterials(
    form: unknown,
    selected: ReadonlySet<string>,
  ): { required: Set<string>; optional: Set<string> } {
    const required = new Set<string>();
    const optional = new Set<string>();
    for (const itemKey of selected) {
      const item = this.bundle.item(itemKey);
      for (const material of item.needs)
        if (this.bundle.material(material)?.source === 'upload') required.add(material);
      if (!item.situationalNeeds) continue;
      for (const rule of this.bundle.definition.situationalMaterials) {
        if (!conditionHolds(rule.when, form)) continue;
        for (const material of rule.requires) required.add(material);
        for (const material of rule.optional ?? []) optional.add(material);
      }
    }
    return { required, optional };
  }

  private async materialProblems(
    form: unknown,
    selected: ReadonlySet<string>,
    uploads: Record<string, UploadedMaterial>,
    problems: ErrorDetail[],
  ): Promise<Record<string, CheckedMaterial>> {
    const { required, optional } = this.neededMaterials(form, selected);
    const checked: Record<string, CheckedMaterial> = {};

    for (const material of required) {
      if (!uploads[material]) {
        problems.push(
          problem('LB_ERR_MATERIAL_MISSING', `/materials/${material}`, this.bundle.material(material)?.name),
        );
      }
    }
    for (const [material, upload] of Object.entries(uploads)) {
      const pointer = `/materials/${material}`;
      if (!required.has(material) && !optional.has(material)) {
        problems.push(problem('LB_ERR_MATERIAL_NOT_NEEDED', pointer));
        continue;
      }
      const mediaType = await this.checkContent(material, upload.content, pointer, problems);
      if (mediaType) checked[material] = { content: upload.content, mediaType };
    }
    return checked;
  }

  private async checkContent(
    material: string,
    content: Buffer,
    pointer: string,
    problems: ErrorDetail[],
  ): Promise<string | null> {
    if (content.length === 0) {
      problems.push(problem('LB_ERR_MATERIAL_EMPTY', pointer));
      return null;
    }
    const definition = this.bundle.material(material);
    const sniffed = await sniffDocument(content);
    if (!sniffed || !(definition?.mediaTypes ?? []).includes(sniffed.mediaType)) {
      const allowed = (definition?.mediaTypes ?? []).join('、');
      problems.push(problem('LB_ERR_MATERIAL_TYPE', pointer, `本材料允许 ${allowed}`));
      return null;
    }

    const image = definition?.image;
    if (image) {
      const size = readImageSize(content);
      if (!size || size.widthPx !== image.widthPx || size.heightPx !== image.heightPx) {
        const actual = size ? `实际为 ${size.widthPx}×${size.heightPx} 像素` : '无法读取图片尺寸';
        problems.push(problem('LB_ERR_PHOTO_DIMENSIONS', pointer, actual));
      }
      if (content.length < image.minBytes || content.length > image.maxBytes) {
        problems.push(
          problem('LB_ERR_PHOTO_SIZE', pointer, `实际为 ${(content.length / 1024).toFixed(1)}KB`),
        );
      }
    }
    return sniffed.mediaType;
  }
}
