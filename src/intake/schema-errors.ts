/**
 * Turns ajv errors into problems with a specific code, a JSON pointer and a Chinese
 * message. The field's Chinese name comes from its schema description (the term in
 * brackets), and the allowed values of a code table come from the table itself.
 */
import type { ErrorObject } from 'ajv';
import type { ErrorDetail } from '../api/errors.ts';
import type { CodeTableName, CodeTables } from './code-tables.ts';
import { labelledProblem, problem, type ProblemCode } from './problems.ts';

type SchemaNode = Record<string, unknown>;

const TYPE_NAMES: Record<string, string> = {
  string: '字符串',
  number: '数字',
  integer: '整数',
  boolean: '布尔值（true 或 false）',
  object: '对象',
  array: '数组',
  null: '空值',
};

const COMPARISON_NAMES: Record<string, string> = { '>=': '不小于', '<=': '不大于', '>': '大于', '<': '小于' };

const CODE_TABLE_PROBLEMS: Record<CodeTableName, ProblemCode> = {
  sexCode: 'LB_ERR_CODE_SEX',
  idTypeCode: 'LB_ERR_CODE_ID_TYPE',
  householdTypeCode: 'LB_ERR_CODE_HOUSEHOLD_TYPE',
  educationCode: 'LB_ERR_CODE_EDUCATION',
  ethnicityCode: 'LB_ERR_CODE_ETHNICITY',
  householdRelationCode: 'LB_ERR_CODE_RELATION',
  districtCode: 'LB_ERR_CODE_DISTRICT',
};

const MOBILE_RULE = '11 位手机号码（1 开头，第二位为 3 至 9）';

/** Pattern problems by the `$defs` name whose pattern failed. */
const PATTERN_PROBLEMS: Record<string, { code: ProblemCode; rule?: string }> = {
  citizenIdNumber: { code: 'LB_ERR_ID_FORMAT' },
  phoneNumber: {
    code: 'LB_ERR_PHONE_FORMAT',
    rule: `应为 ${MOBILE_RULE}，或带区号的固定电话（如 023-65100000、0817-2345678）`,
  },
  chongqingPhoneNumber: {
    code: 'LB_ERR_PHONE_FORMAT',
    rule: `应为 ${MOBILE_RULE}，或重庆固定电话（区号 023 加 8 位号码，如 023-65100000）`,
  },
  postalCode: { code: 'LB_ERR_POSTAL_CODE_FORMAT' },
  bankCardNumber: { code: 'LB_ERR_BANK_CARD_FORMAT' },
  text50: { code: 'LB_ERR_FIELD_FORMAT', rule: '不能包含换行符、制表符等控制字符' },
  text100: { code: 'LB_ERR_FIELD_FORMAT', rule: '不能包含换行符、制表符等控制字符' },
  text200: { code: 'LB_ERR_FIELD_FORMAT', rule: '不能包含换行符、制表符等控制字符' },
  personName: { code: 'LB_ERR_FIELD_FORMAT', rule: '不能包含换行符、制表符等控制字符' },
};

export class SchemaErrorTranslator {
  constructor(
    private readonly schema: SchemaNode,
    private readonly codes: CodeTables,
    private readonly itemNames: ReadonlyMap<string, string>,
  ) {}

  /** Translates ajv errors; `submissionDate` selects the district codes a message names. */
  translate(errors: readonly ErrorObject[] | null | undefined, submissionDate: string): ErrorDetail[] {
    const list = withoutPatternOfEmpty(withoutAnyOfBranches(errors ?? []));
    const seen = new Set<string>();
    const details: ErrorDetail[] = [];
    for (const error of list) {
      const detail = this.describe(error, submissionDate);
      if (!detail) continue;
      const key = `${detail.code}|${detail.pointer}`;
      if (seen.has(key)) continue;
      seen.add(key);
      details.push(detail);
    }
    return details;
  }

  private describe(error: ErrorObject, submissionDate: string): ErrorDetail | null {
    const params = error.params as Record<string, unknown>;
    const pointer = error.instancePath;
    const label = this.labelAt(pointer) ?? '该字段';

    switch (error.keyword) {
      case 'required': {
        const missing = `${pointer}/${escapePointerToken(String(params.missingProperty))}`;
        return labelledProblem(
          'LB_ERR_FIELD_REQUIRED',
          missing,
          this.labelAt(missing) ?? String(params.missingProperty),
        );
      }
      case 'additionalProperties':
        return problem(
          'LB_ERR_FIELD_UNKNOWN',
          `${pointer}/${escapePointerToken(String(params.additionalProperty))}`,
        );
      case 'type':
        return problem('LB_ERR_FIELD_TYPE', pointer, `${label}应为${typeName(params.type)}`);
      case 'enum':
        return this.enumProblem(error, label, submissionDate);
      case 'const':
        return constProblem(pointer, label, params.allowedValue);
      case 'format':
        return formatProblem(pointer, label, String(params.format));
      case 'anyOf':
        return problem('LB_ERR_DATE_INVALID', pointer, `${label}应为日期，长期有效的填 long-term`);
      case 'maxLength':
        return problem('LB_ERR_FIELD_TOO_LONG', pointer, `${label}最多 ${String(params.limit)} 个字符`);
      case 'minLength':
        return minLengthProblem(pointer, label, Number(params.limit));
      case 'pattern':
        return patternProblem(error, label);
      case 'minimum':
      case 'maximum':
      case 'exclusiveMinimum':
      case 'exclusiveMaximum': {
        const comparison = COMPARISON_NAMES[String(params.comparison)] ?? String(params.comparison);
        return problem('LB_ERR_FIELD_RANGE', pointer, `${label}应${comparison} ${String(params.limit)}`);
      }
      case 'minItems':
        // An empty item list lacks 退役报到, which the selection rule reports.
        return pointer === '/items'
          ? null
          : problem('LB_ERR_FIELD_RANGE', pointer, `${label}至少 ${String(params.limit)} 项`);
      case 'maxItems':
        return problem('LB_ERR_FIELD_RANGE', pointer, `${label}最多 ${String(params.limit)} 项`);
      case 'uniqueItems':
        return problem('LB_ERR_ITEMS_DUPLICATE', `${pointer}/${String(params.i)}`);
      default:
        return labelledProblem('LB_ERR_FIELD_SCHEMA', pointer, label);
    }
  }

  private enumProblem(error: ErrorObject, label: string, submissionDate: string): ErrorDetail {
    const pointer = error.instancePath;
    const definition = definitionName(error.schemaPath);
    if (definition === 'itemKey') {
      const allowed = [...this.itemNames].map(([key, name]) => `${key}（${name}）`).join('、');
      return problem('LB_ERR_ITEMS_UNKNOWN', pointer, `允许的事项：${allowed}`);
    }
    if (definition === 'districtCode') {
      return problem(
        'LB_ERR_CODE_DISTRICT',
        pointer,
        `允许值：${this.codes.describeDistrictsOn(submissionDate)}`,
      );
    }
    if (definition !== undefined && definition in CODE_TABLE_PROBLEMS) {
      const table = definition as CodeTableName;
      return problem(CODE_TABLE_PROBLEMS[table], pointer, `允许值：${this.codes.describe(table)}`);
    }
    const allowed = ((error.params as { allowedValues?: unknown[] }).allowedValues ?? []).map(String);
    return problem('LB_ERR_FIELD_VALUE', pointer, `${label}允许值：${allowed.join('、')}`);
  }

  /** Returns the Chinese name of the field at `pointer`: the bracketed term of its schema description. */
  private labelAt(pointer: string): string | undefined {
    const node = schemaAt(this.schema, pointer);
    const description = node ? String(node.description ?? this.resolve(node).description ?? '') : '';
    return /\(([^()]*[\u4e00-\u9fff][^()]*)\)/.exec(description)?.[1];
  }

  private resolve(node: SchemaNode): SchemaNode {
    return resolveRef(this.schema, node);
  }
}

/**
 * Drops the errors of each branch of a failed `anyOf`. The `anyOf` error itself reports
 * that no branch matched, and the branch errors would contradict each other.
 */
function withoutAnyOfBranches(errors: readonly ErrorObject[]): ErrorObject[] {
  const anyOfPaths = errors.filter((error) => error.keyword === 'anyOf').map((error) => error.schemaPath);
  return errors.filter(
    (error) =>
      error.keyword === 'anyOf' || !anyOfPaths.some((path) => error.schemaPath.startsWith(`${path}/`)),
  );
}

/** Drops the pattern error of an empty string, because the empty-field problem already covers it. */
function withoutPatternOfEmpty(errors: readonly ErrorObject[]): ErrorObject[] {
  const empty = new Set(
    errors.filter((error) => error.keyword === 'minLength').map((error) => error.instancePath),
  );
  return errors.filter((error) => error.keyword !== 'pattern' || !empty.has(error.instancePath));
}

function constProblem(pointer: string, label: string, allowedValue: unknown): ErrorDetail {
  if (pointer === '/declaration/agreed') return problem('LB_ERR_DECLARATION_NOT_AGREED', pointer);
  return problem('LB_ERR_FIELD_VALUE', pointer, `${label}应为 ${String(allowedValue)}`);
}

function formatProblem(pointer: string, label: string, format: string): ErrorDetail {
  if (format === 'date') return labelledProblem('LB_ERR_DATE_INVALID', pointer, label);
  if (format === 'date-time') return labelledProblem('LB_ERR_DATE_TIME_INVALID', pointer, label);
  return labelledProblem('LB_ERR_FIELD_FORMAT', pointer, label);
}

function minLengthProblem(pointer: string, label: string, limit: number): ErrorDetail {
  if (limit <= 1) return labelledProblem('LB_ERR_FIELD_EMPTY', pointer, label);
  return problem('LB_ERR_FIELD_FORMAT', pointer, `${label}至少 ${limit} 个字符`);
}

function patternProblem(error: ErrorObject, label: string): ErrorDetail {
  const known = PATTERN_PROBLEMS[definitionName(error.schemaPath) ?? ''];
  if (!known) return labelledProblem('LB_ERR_FIELD_FORMAT', error.instancePath, label);
  if (!known.rule) return labelledProblem(known.code, error.instancePath, label);
  return problem(known.code, error.instancePath, `${label}${known.rule}`);
}

function typeName(type: unknown): string {
  const names = Array.isArray(type) ? type.map(String) : [String(type)];
  return names.map((name) => TYPE_NAMES[name] ?? name).join('或');
}

function definitionName(schemaPath: string): string | undefined {
  return /^#\/\$defs\/([^/]+)\//.exec(schemaPath)?.[1];
}

function escapePointerToken(token: string): string {
  return token.replaceAll('~', '~0').replaceAll('/', '~1');
}

/** Follows `properties` and `items` of the schema along an instance pointer. */
function schemaAt(root: SchemaNode, pointer: string): SchemaNode | undefined {
  let node: SchemaNode | undefined = root;
  for (const raw of pointer.split('/').slice(1)) {
    const token = raw.replaceAll('~1', '/').replaceAll('~0', '~');
    const current: SchemaNode = resolveRef(root, node);
    const properties = current.properties as Record<string, SchemaNode> | undefined;
    if (properties && Object.hasOwn(properties, token)) node = properties[token];
    else if (current.items && /^[0-9]+$/.test(token)) node = current.items as SchemaNode;
    else return undefined;
    if (!node) return undefined;
  }
  return node;
}

function resolveRef(root: SchemaNode, node: SchemaNode): SchemaNode {
  const ref = node.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/$defs/')) return node;
  const definitions = root.$defs as Record<string, SchemaNode> | undefined;
  return definitions?.[ref.slice('#/$defs/'.length)] ?? node;
}
