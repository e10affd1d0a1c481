/**
 * Redis key layout. Keys of one case share the hash tag `{<caseId>}`, so a case's keys
 * live in one Redis Cluster slot and one Lua script can update them atomically.
 */
export class KeySpace {
  constructor(readonly prefix: string) {}

  caseMeta(caseId: string): string {
    return `${this.prefix}:case:{${caseId}}:meta`;
  }

  item(caseId: string, itemKey: string): string {
    return `${this.prefix}:case:{${caseId}}:item:${itemKey}`;
  }

  trail(caseId: string): string {
    return `${this.prefix}:case:{${caseId}}:trail`;
  }

  outbox(caseId: string): string {
    return `${this.prefix}:case:{${caseId}}:outbox`;
  }

  appliedEvents(caseId: string): string {
    return `${this.prefix}:case:{${caseId}}:events`;
  }

  rawCallbacks(caseId: string): string {
    return `${this.prefix}:case:{${caseId}}:callbacks`;
  }

  pushLock(caseId: string): string {
    return `${this.prefix}:case:{${caseId}}:push-lock`;
  }

  platformCase(platformCaseId: string): string {
    return `${this.prefix}:platform-case:${platformCaseId}`;
  }

  activeCases(): string {
    return `${this.prefix}:cases:active`;
  }

  deadLetters(department: string): string {
    return `${this.prefix}:dead-letters:${department}`;
  }

  resultDocuments(): string {
    return `${this.prefix}:documents:results`;
  }

  /** BullMQ's own key prefix; BullMQ appends `:<queue>:…`. */
  queuePrefix(): string {
    return `${this.prefix}:bull`;
  }
}
