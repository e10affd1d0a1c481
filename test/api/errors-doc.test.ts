/** Keeps docs/errors.md equal to the error registry (answer, problem and warning codes), in both directions. */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ERRORS } from '../../src/api/errors.ts';
import { PROBLEMS, WARNINGS } from '../../src/intake/problems.ts';

const doc = readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');

function documentedRows(): Map<string, string[]> {
  const rows = new Map<string, string[]>();
  for (const line of doc.split('\n')) {
    const match = /^\| `(LB_(?:ERR|WARN)_[A-Z0-9_]+)` \| (.+) \|$/.exec(line);
    if (match?.[1] && match[2]) rows.set(match[1], match[2].split(' | '));
  }
  return rows;
}

describe('docs/errors.md', () => {
  const rows = documentedRows();

  it('lists every answer code with its status and message', () => {
    for (const [code, entry] of Object.entries(ERRORS)) {
      expect(rows.get(code), code).toEqual([String(entry.status), entry.message]);
    }
  });

  it('lists every problem code with its message', () => {
    for (const [code, message] of Object.entries(PROBLEMS)) expect(rows.get(code), code).toEqual([message]);
  });

  it('lists every warning code with its message', () => {
    for (const [code, message] of Object.entries(WARNINGS)) expect(rows.get(code), code).toEqual([message]);
  });

  it('lists no code the registry lacks', () => {
    const known = new Set([...Object.keys(ERRORS), ...Object.keys(PROBLEMS), ...Object.keys(WARNINGS)]);
    expect([...rows.keys()].filter((code) => !known.has(code))).toEqual([]);
  });
});
