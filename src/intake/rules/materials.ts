/**
 * Uploaded materials: each selected item's required materials, the situational materials
 * its settlement situation calls for, nothing else, and each file's content. The type is
 * decided by the file's bytes (JPEG, PNG or PDF), never by its name or declared type.
 */
import type { ErrorDetail } from '../../api/errors.ts';
import { conditionHolds, type Bundle } from '../../bundle/bundle.ts';
import { problem } from '../problems.ts';
import { readImageSize, sniffDocument } from '../sniff.ts';
import type { RuleContext } from './context.ts';

export interface UploadedMaterial {
  content: Buffer;
  /** Media type the client declared, recorded for the audit trail but never trusted. */
  declaredType?: string;
}

export interface CheckedMaterial {
  content: Buffer;
  mediaType: string;
}

/** Required and optional uploaded materials of the selected items. */
export function neededMaterials(
  bundle: Bundle,
  form: unknown,
  selected: ReadonlySet<string>,
): { required: Set<string>; optional: Set<string> } {
  const required = new Set<string>();
  const optional = new Set<string>();
  for (const itemKey of selected) {
    const item = bundle.item(itemKey);
    for (const material of item.needs)
      if (bundle.material(material)?.source === 'upload') required.add(material);
    if (!item.situationalNeeds) continue;
    for (const rule of bundle.definition.situationalMaterials) {
      if (!conditionHolds(rule.when, form)) continue;
      for (const material of rule.requires) required.add(material);
      for (const material of rule.optional ?? []) optional.add(material);
    }
  }
  return { required, optional };
}

/** Checks the uploads and returns the accepted ones with the media type read from their content. */
export async function checkMaterials(
  ctx: RuleContext,
  uploads: Record<string, UploadedMaterial>,
): Promise<Record<string, CheckedMaterial>> {
  const { required, optional } = neededMaterials(ctx.bundle, ctx.form, ctx.selected);
  const checked: Record<string, CheckedMaterial> = {};

  // A material already reported by the route (bad base64, say) was sent, so it is not also "missing".
  const reported = new Set(
    ctx.problems
      .filter((detail) => detail.pointer.startsWith('/materials/'))
      .map((detail) => detail.pointer.split('/')[2]),
  );
  for (const material of required) {
    if (uploads[material] || reported.has(material)) continue;
    ctx.problems.push(
      problem('LB_ERR_MATERIAL_MISSING', `/materials/${material}`, materialName(ctx.bundle, material)),
    );
  }
  for (const [material, upload] of Object.entries(uploads)) {
    const pointer = `/materials/${material}`;
    if (!required.has(material) && !optional.has(material)) {
      ctx.problems.push(problem('LB_ERR_MATERIAL_NOT_NEEDED', pointer));
      continue;
    }
    const mediaType = await checkContent(ctx.bundle, material, upload.content, pointer, ctx.problems);
    if (mediaType) checked[material] = { content: upload.content, mediaType };
  }
  return checked;
}

function materialName(bundle: Bundle, material: string): string | undefined {
  const definition = bundle.material(material);
  if (!definition) return undefined;
  return definition.number ? `${definition.number} ${definition.name}` : definition.name;
}

async function checkContent(
  bundle: Bundle,
  material: string,
  content: Buffer,
  pointer: string,
  problems: ErrorDetail[],
): Promise<string | null> {
  if (content.length === 0) {
    problems.push(problem('LB_ERR_MATERIAL_EMPTY', pointer));
    return null;
  }
  const definition = bundle.material(material);
  const allowed = definition?.mediaTypes ?? [];
  const sniffed = await sniffDocument(content);
  if (!sniffed || !allowed.includes(sniffed.mediaType)) {
    problems.push(problem('LB_ERR_MATERIAL_TYPE', pointer, `本材料允许 ${allowed.join('、')}`));
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
      problems.push(problem('LB_ERR_PHOTO_SIZE', pointer, `实际为 ${(content.length / 1024).toFixed(1)}KB`));
    }
  }
  return sniffed.mediaType;
}
