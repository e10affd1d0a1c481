/**
 * Accepts a case: validates it, stores its materials and record, and starts the plan.
 * Nothing is written to Redis for an invalid case. Its materials never reach the
 * document store either, because materials are stored only after validation.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import { sha256Hex } from '../adapters-kit/signing.ts';
import { GatewayError } from '../api/errors.ts';
import { readPointer, type Bundle } from '../bundle/bundle.ts';
import { planCase } from '../bundle/plan.ts';
import type { DueCalculator } from '../orchestration/department-worker.ts';
import type { Orchestrator } from '../orchestration/orchestrator.ts';
import type { CaseStore, NewItem } from '../store/case-store.ts';
import type { DocumentStore } from '../store/documents.ts';
import type { StoredMaterial } from '../store/records.ts';
import type { CaseValidator, UploadedMaterial } from './validate.ts';

export interface IntakeAnswer {
  caseId: string;
  platformCaseId: string;
  status: string;
  items: Array<{ itemKey: string; status: string }>;
}

export interface IntakeResult {
  httpStatus: 202;
  answer: IntakeAnswer;
  duplicate: boolean;
}

/** Natural-day limits after discharge, from the Veterans Support Law and the Military Service Law. */
const CHECK_IN_LIMIT_DAYS = 30;
const SERVICE_REGISTRATION_LIMIT_DAYS = 40;
const DAY_MS = 24 * 3600 * 1000;

export function newCaseId(now = new Date()): string {
  const shanghaiDate = new Date(now.getTime() + 8 * 3600 * 1000)
    .toISOString()
    .slice(0, 10)
    .replaceAll('-', '');
  return `LB${shanghaiDate}-${randomBytes(6).toString('hex')}`;
}

/** Lateness facts for veterans affairs; the gateway cannot judge a good reason, so it only flags. */
export function lateFlags(form: unknown, submittedAt: Date): string[] {
  const discharge = readPointer(form, '/service/dischargeDate');
  if (typeof discharge !== 'string') return [];
  const dischargeMs = Date.parse(`${discharge}T00:00:00+08:00`);
  if (Number.isNaN(dischargeMs)) return [];

  const shanghaiDay = Date.parse(
    `${new Date(submittedAt.getTime() + 8 * 3600 * 1000).toISOString().slice(0, 10)}T00:00:00+08:00`,
  );
  const days = Math.round((shanghaiDay - dischargeMs) / DAY_MS);
  const flags: string[] = [];
  if (days > CHECK_IN_LIMIT_DAYS) flags.push(`check-in-late:${days}`);
  if (days > SERVICE_REGISTRATION_LIMIT_DAYS) flags.push(`service-registration-late:${days}`);
  return flags;
}

function requestHash(form: unknown, uploads: Record<string, UploadedMaterial>): string {
  const materials = Object.entries(uploads)
    .map(([key, upload]) => `${key}=${sha256Hex(upload.content)}`)
    .sort();
  return sha256Hex(`${JSON.stringify(form)}\n${materials.join('\n')}`);
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

  async submit(form: unknown, uploads: Record<string, UploadedMaterial>): Promise<IntakeResult> {
    const result = await this.validator.validate(form, uploads);
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
    };
    const now = new Date();
    const promise = this.calendar.dueAt(now, this.bundle.definition.promiseWorkingDays);
    const created = await this.store.createCase({
      caseId,
      platformCaseId: typed.platformCaseId,
      bundle: this.bundle.key,
      submittedAt: typed.submittedAt,
      form,
      materials,
      flags: lateFlags(form, new Date(typed.submittedAt)),
      items,
      promiseDueAt: promise.dueAt,
      promiseDueProvisional: promise.provisional,
      requestHash: requestHash(form, uploads),
      answer: JSON.stringify(answer),
    });

    if (created.outcome === 'conflict') {
      throw new GatewayError('LB_ERR_CASE_CONFLICT', [
        {
          code: 'LB_ERR_CASE_CONFLICT',
          pointer: '/platformCaseId',
          message: `办件编号 ${typed.platformCaseId} 已对应办件 ${created.existingCaseId}，内容与本次提交不同。`,
        },
      ]);
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
