/**
 * The intake rule table run against the validator directly: every invalid row must be
 * rejected with exactly its expected problems, every valid row accepted. The HTTP test in
 * test/api/intake-rules.test.ts runs a subset through a real gateway.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import type { ErrorDetail } from '../../src/api/errors.ts';
import { loadBundle } from '../../src/bundle/bundle.ts';
import { CaseValidator } from '../../src/intake/validate.ts';
import { makeDraft, makeMaterialSet, TABLE_NOW, type MaterialSet } from './case-drafts.ts';
import { INVALID_ROWS, VALID_ROWS, type InvalidRow, type ValidRow } from './rule-table.ts';

const bundle = loadBundle();

const validators = new Map<string, CaseValidator>();

/** One validator per clock: compiling the schema is the slow part of a row. */
function validatorAt(now: string): CaseValidator {
  let validator = validators.get(now);
  if (!validator) {
    validator = new CaseValidator(bundle, { now: () => new Date(now) });
    validators.set(now, validator);
  }
  return validator;
}

function summarise(details: readonly ErrorDetail[]): string[] {
  return details.map((detail) => `${detail.code} ${detail.pointer}`).sort();
}

async function run(row: InvalidRow | ValidRow, materials: MaterialSet) {
  const draft = makeDraft(row.base ?? 'typical', materials);
  row.change?.(draft, materials);
  const uploads = Object.fromEntries(
    Object.entries(draft.uploads).map(([key, content]) => [key, { content }]),
  );
  return validatorAt(row.now ?? TABLE_NOW).validate(draft.form, uploads);
}

describe('intake rule table', () => {
  let materials: MaterialSet;

  beforeAll(async () => {
    materials = await makeMaterialSet();
  });

  it('has at least 80 invalid and 15 valid rows', () => {
    expect(INVALID_ROWS.length).toBeGreaterThanOrEqual(80);
    expect(VALID_ROWS.length).toBeGreaterThanOrEqual(15);
    expect(new Set([...INVALID_ROWS, ...VALID_ROWS].map((row) => row.name)).size).toBe(
      INVALID_ROWS.length + VALID_ROWS.length,
    );
  });

  describe('rejects', () => {
    for (const row of INVALID_ROWS) {
      it(row.name, async () => {
        const result = await run(row, materials);
        const expected = typeof row.expected === 'function' ? row.expected(materials) : row.expected;
        expect(result.ok).toBe(false);
        if (result.ok) return;
        expect(summarise(result.problems)).toEqual([...expected].sort());
        for (const problem of result.problems) expect(problem.message).toMatch(/[\u4e00-\u9fff]/);
      });
    }
  });

  describe('accepts', () => {
    for (const row of VALID_ROWS) {
      it(row.name, async () => {
        const result = await run(row, materials);
        expect(result.ok ? [] : summarise(result.problems)).toEqual([]);
        expect(summarise(result.warnings)).toEqual([...(row.warnings ?? [])].sort());
      });
    }
  });
});
