/**
 * Accepts a case: validates it, stores its materials and record, and starts the plan.
 * Nothing is written to Redis for an invalid case. Its materials never reach the
 * document store either, because materials are stored only after validation.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { sha256Hex } from '../adapters-kit/signing.ts';
import { GatewayError, type ErrorDetail } from '../api/errors.ts';
import type { Bundle } from '../bundle/bundle.ts';
import { planCase } from '../bundle/plan.ts';
import type { DueCalculator } from '../orchestration/department-worker.ts';
import type { Orchestrator } from '../orchestration/orchestrator.ts';
import type { CaseStore, NewItem } from '../store/case-store.ts';
import type { DocumentStore } from '../store/documents.ts';
import type { StoredMaterial } from '../store/records.ts';
import { lateFlags, type RestDayCalendar } from './rules/lateness.ts';
import type { CaseValidator, UploadedMaterial } from './validate.ts';

export interface IntakeAnswer {
  caseId: string;
  platformCaseId: string;
  status: string;
  items: Array<{ itemKey: string; status: string }>;
  /** Findings that do not stop the case, such as a bank card number failing the Luhn check. */
  warnings: ErrorDetail[];
}

export interface IntakeResult {
  httpStatus: 202;
  answer: IntakeAnswer;
  duplicate: boolean;
}

export { lateFlags };

export function newCaseId(now = new Date()): string {
  const shanghaiDate = new Date(now.getTime() + 8 * 3600 * 1000)
    .toISOString()
    .slice(0, 10)
    .replaceAll('-', '');
  return `LB${shanghaiDate}-${randomBytes(6).toString('hex')}`;
}

function requestHash(form: unknown, uploads: Record<string, UploadedMaterial>): string {
  const materials = Object.entries(uploads)
    .map(([key, upload]) => `${key}=${sha256Hex(upload.content)}`)
    .sort();
  return sha256Hex(`${JSON.stringify(form)}\n${materials.join('\n')}`);
}

/** SHA-256 of each top-level field and each material, so a conflict can name what changed. */
function requestFingerprint(
  form: unknown,
  uploads: Record<string, UploadedMaterial>,
): Record<string, string> {
  const fingerprint: Record<string, string> = {};
  for (const [key, value] of Object.entries((form ?? {}) as Record<string, unknown>)) {
    fingerprint[`/${key}`] = sha256Hex(JSON.stringify(value));
  }
  for (const [key, upload] of Object.entries(uploads))
    fingerprint[`/materials/${key}`] = sha256Hex(upload.content);
  return fingerprint;
}

function changedParts(first: Record<string, string>, second: Record<string, string>): string[] {
  const pointers = new Set([...Object.keys(first), ...Object.keys(second)]);
  return [...pointers].filter((pointer) => first[pointer] !== second[pointer]).sort();
}

function hasRestDays(calendar: DueCalculator): calendar is DueCalculator & RestDayCalendar {
  return typeof (calendar as Partial<RestDayCalendar>).isWorkingDay === 'function';
}

export class IntakeService {
  constructor(
    private readonly bundle: Bundle,
    private readonly validator: CaseValidator,
    private readonly store: CaseStore,
    private readonly documents: DocumentStore,
    private readonly orchestrator: Orchestrator,
    private readonly calendar: DueCalculator,
    private readonly logger: Logger,
  ) {}

  /**
   * Validates and accepts a case. `transportProblems` are problems the route found in the
   * request's framing; they are reported together with the form's problems.
   */
  async submit(
    form: unknown,
    uploads: Record<string, UploadedMaterial>,
    transportProblems: readonly ErrorDetail[] = [],
  ): Promise<IntakeResult> {
    const result = await this.validator.validate(form, uploads, transportProblems);
    if (!result.ok) throw new GatewayError('LB_ERR_CASE_INVALID', result.problems);

    const typed = form as { platformCaseId: string; submittedAt: string; items: string[] };
    const materials: Record<string, StoredMaterial> = {};
    for (const [key, material] of Object.entries(result.materials)) {
      const sha256 = await this.documents.put(material.content);
      materials[key] = { sha256, mediaType: material.mediaType, size: material.content.length };
    }

    const caseId = newCaseId();
    const items = this.planItems(typed.items, form);
    const answer: IntakeAnswer = {
      caseId,
      platformCaseId: typed.platformCaseId,
      status: 'in_progress',
      items: items.map((item) => ({ itemKey: item.itemKey, status: item.state })),
      warnings: result.warnings,
    };
    const now = new Date();
    const promise = this.calendar.dueAt(now, this.bundle.definition.promiseWorkingDays);
    const fingerprint = requestFingerprint(form, uploads);
    const created = await this.store.createCase({
      caseId,
      platformCaseId: typed.platformCaseId,
      bundle: this.bundle.key,
      submittedAt: typed.submittedAt,
      form,
      materials,
      flags: lateFlags(
        form,
        new Date(typed.submittedAt),
        hasRestDays(this.calendar) ? this.calendar : undefined,
      ),
      items,
      promiseDueAt: promise.dueAt,
      promiseDueProvisional: promise.provisional,
      requestHash: requestHash(form, uploads),
      fingerprint,
      answer: JSON.stringify(answer),
    });

    if (created.outcome === 'conflict') {
      throw conflictError(
        typed.platformCaseId,
        created.existingCaseId,
        changedParts(created.fingerprint, fingerprint),
      );
    }
    if (created.outcome === 'in_flight') {
      // The first request has claimed the case but not stored it yet. A 202 now would
      // promise a case that may never be written, so the platform is asked to retry.
      this.logger.warn({ caseId: created.caseId }, 'identical request while the case is still being stored');
      throw new GatewayError('LB_ERR_CASE_IN_PROGRESS');
    }
    const stored = JSON.parse(created.meta.answer) as IntakeAnswer;
    if (created.outcome === 'created') {
      this.logger.info({ caseId: stored.caseId, items: typed.items.length }, 'case accepted');
      await this.orchestrator.advance(stored.caseId);
    }
    return { httpStatus: 202, answer: stored, duplicate: created.outcome === 'duplicate' };
  }

  private planItems(selected: string[], form: unknown): NewItem[] {
    return planCase(this.bundle, selected, form).map((planned) => {
      const definition = this.bundle.item(planned.itemKey);
      return {
        itemKey: planned.itemKey,
        department: planned.department,
        state: planned.callsDepartment ? 'waiting' : 'not_required',
        waitsFor: planned.waitsFor,
        takes: planned.takes,
        idempotencyKey: randomUUID(),
        message: definition.informationalStatus,
      };
    });
  }
}

/** Names the conflicting case and, when the first request's fingerprint is known, each changed part. */
function conflictError(
  platformCaseId: string,
  existingCaseId: string,
  changed: readonly string[],
): GatewayError {
  const details: ErrorDetail[] = [
    {
      code: 'LB_ERR_CASE_CONFLICT',
      pointer: '/platformCaseId',
      message: `办件编号 ${platformCaseId} 已对应办件 ${existingCaseId}，本次提交的内容与首次提交不同；同一办件编号重复提交时内容须完全相同，新的申请请使用新的办件编号。`,
    },
  ];
  for (const pointer of changed) {
    if (pointer === '/platformCaseId') continue;
    details.push({ code: 'LB_ERR_CASE_CONFLICT', pointer, message: '本部分与首次提交的内容不同。' });
  }
  return new GatewayError('LB_ERR_CASE_CONFLICT', details);
}
