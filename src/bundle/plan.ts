/**
 * Turns a case's selected items into a plan: for each item, the department, the items
 * it waits for, and the materials it takes from other items.
 */
import { conditionHolds, type Bundle, type ItemDefinition } from './bundle.ts';

export interface PlannedItem {
  itemKey: string;
  department: string;
  /** Items that must complete before this one is sent. */
  waitsFor: string[];
  /** Produced materials this item takes, with the item that produces each. */
  takes: Array<{ material: string; fromItem: string }>;
  callsDepartment: boolean;
}

/** Returns the selected item that produces a material, or undefined when it is on file. */
export function producerOf(
  bundle: Bundle,
  material: string,
  selected: ReadonlySet<string>,
): string | undefined {
  const producers = bundle.material(material)?.producedBy ?? [];
  return producers.find((itemKey) => selected.has(itemKey));
}

function waitsFor(
  bundle: Bundle,
  item: ItemDefinition,
  selected: ReadonlySet<string>,
  form: unknown,
): Set<string> {
  const needs = new Set<string>();
  for (const dependency of item.after) {
    if (!conditionHolds(dependency.when, form)) continue;
    for (const other of dependency.items) {
      if (selected.has(other) && other !== item.key) needs.add(other);
    }
  }
  for (const material of item.needs) {
    if (bundle.material(material)?.source !== 'produced') continue;
    const producer = producerOf(bundle, material, selected);
    if (producer && producer !== item.key) needs.add(producer);
  }
  return needs;
}

/**
 * Plans the selected items in the bundle's order. Every department item waits at
 * least for the first item (check-in), because veterans affairs pre-reviews each case
 * before any other department receives it.
 */
export function planCase(bundle: Bundle, selectedKeys: readonly string[], form: unknown): PlannedItem[] {
  const selected = new Set(selectedKeys);
  const first = bundle.definition.firstItem;

  return bundle.items
    .filter((item) => selected.has(item.key))
    .map((item) => {
      const callsDepartment = bundle.callsDepartment(item);
      const needs = callsDepartment ? waitsFor(bundle, item, selected, form) : new Set<string>();
      if (callsDepartment && item.key !== first) needs.add(first);

      const takes = item.needs
        .filter((material) => bundle.material(material)?.source === 'produced')
        .flatMap((material) => {
          const fromItem = producerOf(bundle, material, selected);
          return fromItem ? [{ material, fromItem }] : [];
        });
      return { itemKey: item.key, department: item.department, waitsFor: [...needs], takes, callsDepartment };
    });
}
