/** Walks the active cases (the set of cases still in progress) in pipelined chunks. */
import type { CaseDeadlineView, CaseStore } from '../store/case-store.ts';

/** Cases read per pair of pipelines: enough to amortize round trips, small enough to bound memory. */
export const SCAN_CHUNK_CASES = 200;

export async function forEachActiveCase(
  store: CaseStore,
  visit: (view: CaseDeadlineView) => Promise<void> | void,
  chunkCases = SCAN_CHUNK_CASES,
): Promise<number> {
  const caseIds = await store.activeCaseIds();
  for (let start = 0; start < caseIds.length; start += chunkCases) {
    const views = await store.readDeadlineViews(caseIds.slice(start, start + chunkCases));
    for (const view of views) await visit(view);
  }
  return caseIds.length;
}
