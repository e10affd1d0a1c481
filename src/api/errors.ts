/**
 * The gateway's error registry. Each code is stable (`LB_ERR_<AREA>_<PROBLEM>`) and has
 * an HTTP status and the Chinese message the platform shows; `docs/errors.md` lists the
 * same codes, and a test keeps the two equal.
 */
export const ERRORS = {
  LB_ERR_REQUEST_INVALID_JSON: { status: 400, message: '请求体不是有效的 JSON，请检查格式后重新提交。' },
  LB_ERR_REQUEST_MULTIPART_INVALID: {
    status: 400,
    message: 'multipart 请求格式错误，请检查分隔符和各部分后重新提交。',
  },
  LB_ERR_REQUEST_UNSUPPORTED_MEDIA_TYPE: {
    status: 415,
    message: '不支持的请求类型，请使用 application/json 或 multipart/form-data。',
  },
  LB_ERR_REQUEST_INVALID_QUERY: { status: 400, message: '查询参数有误，请按明细修改后重试。' },
  LB_ERR_ADMIN_REQUEST_INVALID: { status: 400, message: '运维请求参数有误，请按明细修改后重试。' },
  LB_ERR_REQUEST_TOO_LARGE: { status: 413, message: '请求或文件超过大小限制，请压缩后重新提交。' },
  LB_ERR_AUTH_MISSING: { status: 401, message: '请求缺少签名信息，请按接口规范签名后重新提交。' },
  LB_ERR_AUTH_INVALID: { status: 401, message: '请求签名无效或已过期，请重新签名后提交。' },
  LB_ERR_AUTH_REPLAYED: { status: 401, message: '请求已被使用过（重放），请使用新的随机数重新提交。' },
  LB_ERR_AUTH_OPERATOR: { status: 401, message: '运维接口需要有效的运维令牌（Authorization: Bearer）。' },
  LB_ERR_CASE_INVALID: { status: 422, message: '办件材料或表单有误，请按明细逐项修改后一次性重新提交。' },
  LB_ERR_CASE_CONFLICT: { status: 409, message: '该办件编号已用不同内容提交过，请核对办件编号。' },
  LB_ERR_CASE_IN_PROGRESS: { status: 503, message: '该办件正在受理中，请稍后以相同内容重新提交。' },
  LB_ERR_CASE_NOT_FOUND: { status: 404, message: '未找到该办件。' },
  LB_ERR_DOCUMENT_NOT_FOUND: { status: 404, message: '未找到该文书。' },
  LB_ERR_CALLBACK_DEPARTMENT_UNKNOWN: { status: 404, message: '未知的部门。' },
  LB_ERR_CALLBACK_UNAUTHORIZED: { status: 401, message: '回调签名无效。' },
  LB_ERR_CALLBACK_INVALID: { status: 400, message: '回调内容无法解析。' },
  LB_ERR_CALLBACK_FORBIDDEN: { status: 403, message: '回调涉及的事项不属于该部门。' },
  LB_ERR_SERVICE_UNAVAILABLE: { status: 503, message: '服务暂不可用，请稍后重试。' },
  LB_ERR_INTERNAL: { status: 500, message: '系统内部错误，请稍后重试。' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** One problem in a request, located by a JSON pointer. */
export interface ErrorDetail {
  code: string;
  pointer: string;
  message: string;
}

export class GatewayError extends Error {
  readonly status: number;

  constructor(
    readonly code: ErrorCode,
    readonly details: ErrorDetail[] = [],
    message?: string,
  ) {
    super(message ?? ERRORS[code].message);
    this.name = 'GatewayError';
    this.status = ERRORS[code].status;
  }

  toBody(): { code: string; message: string; details: ErrorDetail[] } {
    return { code: this.code, message: ERRORS[this.code].message, details: this.details };
  }
}
