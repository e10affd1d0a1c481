/** Builds what the platform receives about an item: states and result documents, no personal data. */
import type { Bundle } from '../bundle/bundle.ts';
import type { ItemRecord, PushItem } from '../store/records.ts';

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
    reason: item.reason,
    legalBasis: item.legalBasis,
    message: item.message,
    // Documents passed between departments (the electronic ID material ⑧) stay inside.
    documents: item.documents
      .filter((document) => bundle.material(document.kind)?.deliverToPlatform)
      .map((document) => ({ ...document, downloadPath: documentPath(document.sha256) })),
  });
}
