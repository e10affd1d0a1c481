/**
 * A bundle (一件事) as data: items, materials, dependencies and deadlines come from
 * `contracts/<bundle>/bundle.json`; no item list lives in code.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

export const CONTRACTS_DIR = fileURLToPath(new URL('../../contracts/', import.meta.url));

export interface Condition {
  /** JSON pointer into the case form. */
  pointer: string;
  equals: unknown;
}

export interface Dependency {
  /** The item waits for every selected item of this list; unselected ones are ignored. */
  items: string[];
  when?: Condition;
  why?: string;
}

export interface ItemDefinition {
  key: string;
  number: number;
  name: string;
  nationalCategory: string;
  department: string;
  businessCode: string | null;
  deadline: { workingDays: number; from?: string; excluded?: string } | null;
  departmentCall?: boolean;
  informationalStatus?: string;
  needs: string[];
  situationalNeeds?: boolean;
  produces: string[];
  sections: string[];
  sectionsWhen?: Array<Condition & { section: string }>;
  after: Dependency[];
}

export interface MaterialDefinition {
  number?: string;
  name: string;
  source: 'upload' | 'produced' | 'form';
  mediaTypes?: string[];
  image?: { widthPx: number; heightPx: number; minBytes: number; maxBytes: number };
  producedBy?: string[];
  onFileWhenNoProducer?: boolean;
  deliverToPlatform?: boolean;
  situational?: boolean;
}

export interface BundleDefinition {
  key: string;
  version: string;
  name: string;
  promiseWorkingDays: number;
  /** Time the bundle's promise does not count (Chinese, as the platform shows it). */
  promiseExcludes?: string;
  firstItem: string;
  departments: Record<string, { name: string; online: boolean }>;
  materials: Record<string, MaterialDefinition>;
  items: ItemDefinition[];
  exclusionGroups: Array<{ items: string[]; name: string }>;
  situationalMaterials: Array<{ when: Condition; requires: string[]; optional?: string[] }>;
  alwaysSections: string[];
}

export class Bundle {
  private readonly itemsByKey: Map<string, ItemDefinition>;

  constructor(readonly definition: BundleDefinition) {
    this.itemsByKey = new Map(definition.items.map((item) => [item.key, item]));
  }

  get key(): string {
    return this.definition.key;
  }

  get items(): ItemDefinition[] {
    return this.definition.items;
  }

  item(key: string): ItemDefinition {
    const item = this.itemsByKey.get(key);
    if (!item) throw new Error(`bundle ${this.key} has no item "${key}"`);
    return item;
  }

  hasItem(key: string): boolean {
    return this.itemsByKey.has(key);
  }

  material(key: string): MaterialDefinition | undefined {
    return this.definition.materials[key];
  }

  /** Returns whether the item is sent to a department (false for items that resolve at once). */
  callsDepartment(item: ItemDefinition): boolean {
    return item.departmentCall !== false;
  }
}

export function loadBundle(key = 'veteran-service', contractsDir = CONTRACTS_DIR): Bundle {
  const path = join(contractsDir, key, 'bundle.json');
  return new Bundle(JSON.parse(readFileSync(path, 'utf8')) as BundleDefinition);
}

/** Reads a JSON pointer (RFC 6901) from a value; undefined when any step is missing. */
export function readPointer(value: unknown, pointer: string): unknown {
  if (pointer === '') return value;
  let current: unknown = value;
  for (const raw of pointer.split('/').slice(1)) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[token];
  }
  return current;
}

export function conditionHolds(condition: Condition | undefined, form: unknown): boolean {
  if (!condition) return true;
  return readPointer(form, condition.pointer) === condition.equals;
}
