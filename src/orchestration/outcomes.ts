/**
 * Applies a department's report on an item, whether it came by callback or by polling.
 * Duplicates and stale reports change nothing; a report that arrives before the item's
 * submit reply was recorded is retried until the item catches up.
 */
import type { Logger } from 'pino';
import type { ItemOutcome, ResultDocument } from '../adapters-kit/types.ts';
import type { Bundle } from '../bundle/bundle.ts';
import type { CaseStore } from '../store/case-store.ts';
import type { DocumentStore } from '../store/documents.ts';
import type { DocumentRef } from '../store/records.ts';
import { TERMINAL_ITEM_STATES } from '../store/records.ts';
import type { Orchestrator } from './orchestrator.ts';

/** A report stored for later application: documents are already in the document store. */
export interface StoredOutcome extends Omit<ItemOutcome, 'documents'> {
  documents: DocumentRef[];
}

/** The item is not yet submitted, so the report must wait; BullMQ retries the job. */
export class EarlyOutcomeError extends Error {
  override name = 'EarlyOutcomeError';
}

export class ForeignItemError extends Error {
  override name = 'ForeignItemError';
}

/** Builds the reference a department echoes back: `<caseId>.<itemKey>` (case ids contain no dot). */
export function itemReference(caseId: string, itemKey: string): string {
  return `${caseId}.${itemKey}`;
}

export function parseReference(reference: string): { caseId: string; itemKey: string } | null {
  const separator = reference.indexOf('.');
  if (separator <= 0 || separator === reference.length - 1) return null;
  return { caseId: reference.slice(0, separator), itemKey: reference.slice(separator + 1) };
}

export class OutcomeApplier {
  constructor(
    private readonly bundle: Bundle,
    private readonly store: CaseStore,
    private readonly documents: DocumentStore,
    private readonly orchestrator: Orchestrator,
    private readonly logger: Logger,
  ) {}

  /** Stores result documents and returns their references; only listed kinds reach the platform. */
  async storeDocuments(documents: ResultDocument[]): Promise<DocumentRef[]> {
    const refs: DocumentRef[] = [];
    for (const document of documents) {
      const sha256 = await this.documents.put(document.content);
      refs.push({
        kind: document.kind,
        name: document.name,
        mediaType: document.mediaType,
        sha256,
        size: document.content.length,
      });
      if (this.bundle.material(document.kind)?.deliverToPlatform) {
        const entry = JSON.stringify({ mediaType: document.mediaType, name: document.name });
        await this.store.redis.hset(this.store.keys.resultDocuments(), sha256, entry);
      }
    }
    return refs;
  }

  /**
   * Checks that a report names an existing item of this department. Throws
   * ForeignItemError otherwise, so a department cannot touch another's items.
   */
  async checkOwnership(department: string, reference: string): Promise<{ caseId: string; itemKey: string }> {
    const parsed = parseReference(reference);
    const item = parsed ? await this.store.getItem(parsed.caseId, parsed.itemKey) : null;
    if (!parsed || !item) throw new ForeignItemError(`reference ${reference} names no item of this gateway`);
    if (item.department !== department) {
      throw new ForeignItemError(
        `reference ${reference} belongs to department ${item.department}, not ${department}`,
      );
    }
    return parsed;
  }

  async apply(department: string, outcome: StoredOutcome): Promise<'applied' | 'duplicate' | 'stale'> {
    const { caseId, itemKey } = await this.checkOwnership(department, outcome.reference);
    const eventKey = `${department}:${outcome.eventId}`;
    const item = await this.store.getItem(caseId, itemKey);
    if (!item) throw new ForeignItemError(`item ${outcome.reference} disappeared`);

    if (TERMINAL_ITEM_STATES.has(item.state)) {
      this.logger.info(
        { caseId, itemKey, department, eventId: outcome.eventId },
        'stale department report ignored',
      );
      return 'stale';
    }
    if (item.state !== 'submitted' && item.state !== 'accepted') {
      throw new EarlyOutcomeError(
        `item ${outcome.reference} is ${item.state}; report ${outcome.eventId} waits`,
      );
    }

    const applied = await this.applyToItem(caseId, itemKey, outcome);
    await this.store.markEventApplied(caseId, eventKey);
    return applied ? 'applied' : 'duplicate';
  }

  private async applyToItem(caseId: string, itemKey: string, outcome: StoredOutcome): Promise<boolean> {
    switch (outcome.status) {
      case 'accepted':
        return (await this.orchestrator.markAccepted(caseId, itemKey, outcome.receiptNo)) !== null;
      case 'completed':
        return (
          (await this.orchestrator.markCompleted(caseId, itemKey, { documents: outcome.documents })) !== null
        );
      case 'rejected': {
        const reason = outcome.reason ?? '部门未说明理由。';
        const legalBasis = outcome.legalBasis ?? '';
        return (await this.orchestrator.markRejected(caseId, itemKey, reason, legalBasis)) !== null;
      }
    }
  }
}
