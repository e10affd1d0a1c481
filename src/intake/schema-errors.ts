/** Turns ajv errors into problems with a JSON pointer and a Chinese message. */
import type { ErrorObject } from 'ajv';
import type { ErrorDetail } from '../api/errors.ts';
import { problem } from './problems.ts';

const TYPE_NAMES: Record<string, string> = {
  string: '字符串',
  number: '数字',
  integer: '整数',
  boolean: '布尔值（true 或 false）',
  object: '对象',
  array: '数组',
  null: '空值',
};

const FORMAT_NAMES: Record<string, string> = {
  date: '日期，格式 YYYY-MM-DD，且须为真实存在的日期',
  'date-time': '带时区的时间，格式如 2025-09-29T09:42:10+08:00',
};

function escapePointerToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

function describe(error: ErrorObject): { pointer: string; text: string } {
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'required':
      return {
        pointer: `${error.instancePath}/${escapePointerToken(String(params.missingProperty))}`,
        text: '缺少必填字段',
      };
    case 'additionalProperties':
      return {
        pointer: `${error.instancePath}/${escapePointerToken(String(params.additionalProperty))}`,
        text: '不允许的字段，请删除',
      };
    case 'type':
      return {
        pointer: error.instancePath,
        text: `类型应为${TYPE_NAMES[String(params.type)] ?? String(params.type)}`,
      };
    case 'enum':
      return {
        pointer: error.instancePath,
        text: `取值不在允许范围内，允许值：${(params.allowedValues as unknown[]).map(String).join('、')}`,
      };
    case 'const':
      return { pointer: error.instancePath, text: `取值应为 ${String(params.allowedValue)}` };
    case 'format':
      return {
        pointer: error.instancePath,
        text: `格式应为${FORMAT_NAMES[String(params.format)] ?? String(params.format)}`,
      };
    case 'maxLength':
      return { pointer: error.instancePath, text: `长度不能超过 ${String(params.limit)} 个字符` };
    case 'minLength':
      return { pointer: error.instancePath, text: `长度不能少于 ${String(params.limit)} 个字符` };
    case 'pattern':
      return { pointer: error.instancePath, text: '格式不正确' };
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return {
        pointer: error.instancePath,
        text: `数值应 ${String(params.comparison)} ${String(params.limit)}`,
      };
    case 'minItems':
      return { pointer: error.instancePath, text: `至少需要 ${String(params.limit)} 项` };
    case 'uniqueItems':
      return { pointer: error.instancePath, text: '存在重复项' };
    default:
      return { pointer: error.instancePath, text: error.message ?? '不符合规范' };
  }
}

export function schemaProblems(errors: ErrorObject[] | null | undefined): ErrorDetail[] {
  const seen = new Set<string>();
  const details: ErrorDetail[] = [];
  for (const error of errors ?? []) {
    const { pointer, text } = describe(error);
    const key = `${pointer}|${text}`;
    if (seen.has(key)) continue;
    seen.add(key);
    details.push(problem('LB_ERR_FIELD_SCHEMA', pointer, text));
  }
  return details;
}
