/** Builds what the platform receives about an item: states and result documents, no personal data. */
import type { Bundle } from '../bundle/bundle.ts';
import {
  TERMINAL_ITEM_STATES,
  type DeadlineWarning,
  type ItemRecord,
  type PushItem,
} from '../store/records.ts';

export function documentPath(sha256: string): string {
  return `/v1/documents/${sha256}`;
}

export function createItemPresenter(bundle: Bundle): (item: ItemRecord) => PushItem {
  return (item) => ({
    itemKey: item.itemKey,
    itemName: bundle.item(item.itemKey).name,
    status: item.state,
    department: item.department,
    receiptNo: item.receiptNo,
    dueAt: item.dueAt,
    dueProvisional: item.dueProvisional,
    // The note travels with the due time, so card production or mailing time is not read into it.
    dueExcludes: item.dueAt ? (bundle.item(item.itemKey).deadline?.excluded ?? undefined) : undefined,
    deadlineWarning: currentDeadlineWarning(item),
    reason: item.reason,
    legalBasis: item.legalBasis,
    message: item.message,
    // Documents passed between departments (the electronic ID material ⑧) stay inside.
    documents: item.documents
      .filter((document) => bundle.material(document.kind)?.deliverToPlatform)
      .map((document) => ({ ...document, downloadPath: documentPath(document.sha256) })),
  });
}

/**
 * Returns the warning raised against the item's current due time, or undefined once the
 * item is finished or its due time was recomputed after the warning.
 */
export function currentDeadlineWarning(item: ItemRecord): DeadlineWarning | undefined {
  if (!item.deadlineWarning || TERMINAL_ITEM_STATES.has(item.state)) return undefined;
  return item.deadlineWarningDueAt === item.dueAt ? item.deadlineWarning : undefined;
}
