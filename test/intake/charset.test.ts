/**
 * Characters and lengths: lengths count code points as the department systems do, and the
 * free-text fields sent to hrss must fit GBK when an hrss item is selected.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ALL_SECTIONS } from '../../adapters/hrss/fields.ts';
import { HRSS_TEXT_POINTERS, isGbkEncodable } from '../../src/intake/rules/charset.ts';

type SchemaNode = { $ref?: string; properties?: Record<string, SchemaNode> };

const schema = JSON.parse(
  readFileSync(new URL('../../contracts/veteran-service/case.schema.json', import.meta.url), 'utf8'),
) as SchemaNode;

const FREE_TEXT_DEFINITIONS = new Set([
  '#/$defs/text50',
  '#/$defs/text100',
  '#/$defs/text200',
  '#/$defs/personName',
]);

function schemaAt(pointer: string): SchemaNode | undefined {
  let node: SchemaNode | undefined = schema;
  for (const token of pointer.split('/').slice(1)) node = node?.properties?.[token];
  return node;
}

describe('hrss character set', () => {
  it('checks exactly the free-text fields hrss receives', () => {
    const hrssText = ALL_SECTIONS.flatMap((section) =>
      section.fields
        .filter((field) => field.type === 'text')
        .map((field) => `/${section.formSection}/${field.path.join('/')}`),
    ).filter((pointer) => FREE_TEXT_DEFINITIONS.has(schemaAt(pointer)?.$ref ?? ''));
    expect([...HRSS_TEXT_POINTERS].sort()).toEqual(hrssText.sort());
  });

  it('tells GBK text from text outside it', () => {
    expect(isGbkEncodable('测试退役甲')).toBe(true);
    expect(isGbkEncodable('重庆市沙坪坝区测试路1号')).toBe(true);
    expect(isGbkEncodable('𠀀')).toBe(false); // U+20000, CJK Extension B
    expect(isGbkEncodable('测试😀')).toBe(false);
  });

  it('counts an Extension B character as one', () => {
    expect('𠀀'.length).toBe(2);
    expect([...'𠀀'].length).toBe(1);
  });
});
