/**
 * The item state machine of a case: decides which waiting items are ready, cancels
 * what can no longer proceed, applies department outcomes and closes the case.
 */
import type { Logger } from 'pino';
import type { Bundle } from '../bundle/bundle.ts';
import type { CaseStore, ItemPatch } from '../store/case-store.ts';
import { TERMINAL_ITEM_STATES, type CaseStatus, type ItemRecord, type ItemState } from '../store/records.ts';
import type { GatewayQueues } from './queues.ts';

/** States an item passes on its way to a department; a department outcome may arrive in any. */
const IN_DEPARTMENT: readonly ItemState[] = ['submitted', 'accepted'];
const BLOCKING_STATES: ReadonlySet<ItemState> = new Set(['rejected', 'cancelled', 'withdrawn']);

export class Orchestrator {
  constructor(
    private readonly bundle: Bundle,
    private readonly store: CaseStore,
    private readonly queues: GatewayQueues,
    private readonly logger: Logger,
  ) {}

  /** Moves an item and requests a platform push of the change. */
  async moveItem(
    caseId: string,
    itemKey: string,
    from: readonly ItemState[],
    patch: ItemPatch,
    detail?: string,
  ): Promise<ItemRecord | null> {
    const updated = await this.store.transitionItem(caseId, itemKey, from, patch, detail);
    if (updated && patch.state) {
      this.logger.info(
        { caseId, itemKey, department: updated.department, state: updated.state },
        'item state changed',
      );
      await this.queues.requestPush(caseId);
    }
    return updated;
  }

  /**
   * Brings a case forward until nothing changes: releases items whose needs completed,
   * cancels items whose needs were refused, and closes the case when every item is final.
   * Safe to call any number of times from any process, because every move is conditional.
   */
  async advance(caseId: string): Promise<void> {
    for (let round = 0; round < this.bundle.items.length + 1; round += 1) {
      const items = await this.store.getItems(caseId);
      const changed = await this.advanceOnce(caseId, items);
      if (!changed) {
        await this.closeIfFinished(caseId, items);
        return;
      }
    }
  }

  private async advanceOnce(caseId: string, items: ItemRecord[]): Promise<boolean> {
    const byKey = new Map(items.map((item) => [item.itemKey, item]));
    let changed = false;

    for (const item of items) {
      if (item.state === 'waiting') changed = (await this.settleWaiting(caseId, item, byKey)) || changed;
      if (item.state === 'ready') await this.dispatch(caseId, item);
    }
    return changed;
  }

  private async settleWaiting(
    caseId: string,
    item: ItemRecord,
    byKey: Map<string, ItemRecord>,
  ): Promise<boolean> {
    const blocker = item.waitsFor
      .map((key) => byKey.get(key))
      .find((need) => need && BLOCKING_STATES.has(need.state));
    if (blocker) {
      const reason = `前置事项「${this.bundle.item(blocker.itemKey).name}」未办结，本事项无法继续办理。`;
      const cancelled = await this.moveItem(
        caseId,
        item.itemKey,
        ['waiting'],
        { state: 'cancelled', reason },
        blocker.itemKey,
      );
      return cancelled !== null;
    }

    const allMet = item.waitsFor.every((key) => byKey.get(key)?.state === 'completed');
    if (!allMet) return false;

    const ready = await this.moveItem(caseId, item.itemKey, ['waiting'], { state: 'ready' });
    if (ready) await this.dispatch(caseId, ready);
    return ready !== null;
  }

  /** Queues a ready item's department job (idempotent by job id) and marks it dispatched. */
  async dispatch(caseId: string, item: ItemRecord): Promise<void> {
    await this.queues.dispatchItem(item.department, { caseId, itemKey: item.itemKey });
    await this.moveItem(caseId, item.itemKey, ['ready'], { state: 'dispatched' });
  }

  private async closeIfFinished(caseId: string, items: ItemRecord[]): Promise<void> {
    if (items.length === 0 || !items.every((item) => TERMINAL_ITEM_STATES.has(item.state))) return;

    const checkIn = items.find((item) => item.itemKey === this.bundle.definition.firstItem);
    let status: CaseStatus = 'partially_completed';
    if (checkIn?.state === 'rejected') status = 'rejected';
    else if (items.every((item) => item.state === 'completed' || item.state === 'not_required'))
      status = 'completed';

    if (await this.store.transitionCase(caseId, 'in_progress', status)) {
      this.logger.info({ caseId, caseStatus: status }, 'case finished');
      await this.queues.requestPush(caseId);
    }
  }

  /** Records the department's acceptance (受理) of a submitted item. */
  async markAccepted(caseId: string, itemKey: string, receiptNo?: string): Promise<ItemRecord | null> {
    return this.moveItem(caseId, itemKey, ['submitted'], { state: 'accepted', receiptNo });
  }

  async markCompleted(caseId: string, itemKey: string, patch: ItemPatch): Promise<ItemRecord | null> {
    const updated = await this.moveItem(caseId, itemKey, IN_DEPARTMENT, { ...patch, state: 'completed' });
    if (updated) await this.advance(caseId);
    return updated;
  }

  async markRejected(
    caseId: string,
    itemKey: string,
    reason: string,
    legalBasis: string,
  ): Promise<ItemRecord | null> {
    const from: ItemState[] = [...IN_DEPARTMENT, 'dispatched'];
    const updated = await this.moveItem(caseId, itemKey, from, { state: 'rejected', reason, legalBasis });
    if (updated) await this.advance(caseId);
    return updated;
  }
}
