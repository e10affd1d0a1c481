/**
 * Codes and Chinese messages for what intake finds in a case. Every problem of a case is
 * collected and returned in one 422 answer (一次性告知); warnings go with the 202
 * acceptance. Together with the answer codes in `src/api/errors.ts` this is the gateway's
 * one error registry, and `docs/errors.md` lists the same codes (a test keeps them equal).
 *
 * A message says what is wrong and what to do. It never contains the applicant's data:
 * the JSON pointer names the field, and the extra text names only rules and allowed values.
 */
import type { ErrorDetail } from '../api/errors.ts';

export const PROBLEMS = {
  // Shape of the form (JSON Schema contract).
  LB_ERR_FIELD_SCHEMA: '字段不符合规范',
  LB_ERR_FIELD_REQUIRED: '缺少必填字段，请填写后提交',
  LB_ERR_FIELD_UNKNOWN: '不允许的字段，请删除后提交',
  LB_ERR_FIELD_TYPE: '字段类型不正确',
  LB_ERR_FIELD_EMPTY: '字段不能为空',
  LB_ERR_FIELD_TOO_LONG: '字段超过长度限制（按字符计，汉字和生僻字均计 1 个字符）',
  LB_ERR_FIELD_FORMAT: '字段格式不正确',
  LB_ERR_FIELD_VALUE: '取值不在允许范围内',
  LB_ERR_FIELD_RANGE: '数值或数量超出允许范围',

  // Item selection.
  LB_ERR_ITEMS_CHECK_IN_MISSING: '必须选择“退役报到”事项，其他事项均在退役报到预审通过后办理。',
  LB_ERR_ITEMS_UNKNOWN: '事项不在本“一件事”范围内',
  LB_ERR_ITEMS_DUPLICATE: '事项重复选择，请删除重复项',
  LB_ERR_ITEMS_EXCLUSIVE: '以下事项只能选择其一',
  LB_ERR_ITEMS_TRANSFER_NEEDS_ENROLLMENT:
    '此前未在重庆市参加职工医保的，须同时选择“以个人身份参加城镇职工基本医疗保险参保登记”，参保成功后方可办理医保关系转移接续',
  LB_ERR_SECTION_MISSING: '所选事项需要填写本部分信息',
  LB_ERR_SECTION_NOT_NEEDED: '所选事项均不需要本部分信息，请删除后提交',
  LB_ERR_CARD_BUSINESS_TYPE: '社保卡业务类型与所选事项不一致',
  LB_ERR_SETTLEMENT_KINSHIP_PAPER:
    '随父母或随配偶父母落户的，亲属关系证明纸质原件由退役军人事务部门收取后转交公安部门，请确认将交纸质原件（kinshipProofPaperPending 填 true）',

  // Eligibility.
  LB_ERR_PLACEMENT_UNSUPPORTED:
    '本“一件事”仅受理自主就业的退役军士和义务兵；安排工作、退休、供养人员请到退役军人事务部门窗口办理。',
  LB_ERR_RESERVE_NOT_COMPLETED:
    '请先持《兵役登记介绍信》到安置地区县人民武装部（兵役服务中心）完成兵役登记信息变更和预备役登记，再申请本“一件事”。',
  LB_ERR_RESERVE_DATE_MISSING: '请填写预备役登记日期（办理兵役登记信息变更和预备役登记的日期）',
  LB_ERR_DECLARATION_NOT_AGREED: '请确认本人承诺后提交。',

  // Code tables.
  LB_ERR_CODE_DISTRICT: '区县代码不是申报日期有效的重庆市区县（含功能区）代码，请按代码表填写。',
  LB_ERR_CODE_SEX: '性别代码不在 GB/T 2261.1 人的性别代码表中，请按代码表填写。',
  LB_ERR_CODE_ETHNICITY: '民族代码不在 GB 3304 民族代码表中，请按代码表填写。',
  LB_ERR_CODE_RELATION: '与户主关系代码不在 GB/T 4761 家庭关系代码表中，请按代码表填写。',
  LB_ERR_CODE_EDUCATION: '文化程度代码不在 GB/T 4658 学历代码表中，请按代码表填写。',
  LB_ERR_CODE_ID_TYPE: '证件类型代码不在允许范围内，请按代码表填写。',
  LB_ERR_CODE_HOUSEHOLD_TYPE: '户口性质不在允许范围内，请按代码表填写。',

  // Citizen ID numbers (GB 11643).
  LB_ERR_ID_FORMAT: '身份证号码应为 18 位：前 17 位为数字，第 18 位为数字或大写字母 X',
  LB_ERR_ID_PROVINCE: '身份证号码前两位不是有效的省级行政区划代码，请核对号码',
  LB_ERR_ID_BIRTH_DATE:
    '身份证号码第 7 至 14 位不是有效的出生日期（须为真实日期且不晚于申报日期），请核对号码',
  LB_ERR_ID_CHECK_DIGIT: '身份证号码第 18 位校验码不正确，请逐位核对号码',
  LB_ERR_ID_BIRTH_DATE_MISMATCH: '出生日期与身份证号码第 7 至 14 位不一致，请核对',
  LB_ERR_ID_SEX_MISMATCH: '性别与身份证号码不一致（第 17 位为奇数是男性，偶数是女性），请核对',

  // Formats.
  LB_ERR_PHONE_FORMAT: '电话号码格式不正确',
  LB_ERR_POSTAL_CODE_FORMAT: '邮编应为 6 位数字',
  LB_ERR_BANK_CARD_FORMAT: '银行卡号应为 12 至 19 位数字，不含空格或其他字符',
  LB_ERR_DATE_INVALID: '日期应为 YYYY-MM-DD 格式的真实日期（如 2024-02-29 有效，2023-02-29 无效）',
  LB_ERR_DATE_TIME_INVALID: '时间应为带时区的 ISO 8601 时间，如 2025-09-29T09:42:10+08:00',
  LB_ERR_DATE_IN_FUTURE: '日期不能晚于申报日期，请核对',
  LB_ERR_DATE_ORDER: '日期先后顺序不正确，请核对',
  LB_ERR_DATE_SUBMITTED_IN_FUTURE: '申报时间晚于系统当前时间，请核对申报时间后重新提交',
  LB_ERR_TEXT_NOT_GBK:
    '含有人力社保系统无法存储的生僻字（GBK 字符集以外的字符），无法在网上办理所选的人力社保事项，请到退役军人服务“一件事”综合窗口办理，或取消所选的人力社保事项后提交',

  // Materials.
  LB_ERR_MATERIAL_MISSING: '缺少所选事项需要的材料',
  LB_ERR_MATERIAL_NOT_NEEDED: '所选事项不需要该材料，请删除后提交',
  LB_ERR_MATERIAL_TYPE: '材料文件类型不符合要求，仅接受 JPEG、PNG、PDF（按文件内容识别）',
  LB_ERR_MATERIAL_EMPTY: '材料文件为空',
  LB_ERR_PHOTO_DIMENSIONS: '电子免冠登记照须为宽 358 像素、高 441 像素',
  LB_ERR_PHOTO_SIZE: '电子免冠登记照文件大小须在 30KB 至 90KB 之间',
  LB_ERR_MATERIAL_BASE64: '材料内容不是有效的 Base64 编码',
  LB_ERR_MULTIPART_PART_UNKNOWN: '未知的上传部分名称',
  LB_ERR_MULTIPART_CASE_MISSING: '缺少名为 case 的办件 JSON 部分',
  LB_ERR_MULTIPART_PART_DUPLICATE: '同一材料上传了多个文件，每种材料只能上传一个文件',
} as const;

/** Findings that do not stop a case; they are returned with the 202 acceptance. */
export const WARNINGS = {
  LB_WARN_BANK_CARD_CHECK_DIGIT:
    '银行卡号未通过 Luhn 校验位检查，请核对卡号；部分银联卡号不使用该校验位，卡号无误的可忽略本提示',
} as const;

export type ProblemCode = keyof typeof PROBLEMS;
export type WarningCode = keyof typeof WARNINGS;

/** Builds a problem; `extra` adds the field's name, the rule or the allowed values. */
export function problem(code: ProblemCode, pointer: string, extra?: string): ErrorDetail {
  return { code, pointer, message: joinMessage(PROBLEMS[code], extra) };
}

/** Builds a problem whose message starts with the field's Chinese name, such as 「邮编：邮编应为 6 位数字」. */
export function labelledProblem(code: ProblemCode, pointer: string, label: string): ErrorDetail {
  return { code, pointer, message: `${label}：${PROBLEMS[code]}` };
}

export function warning(code: WarningCode, pointer: string, extra?: string): ErrorDetail {
  return { code, pointer, message: joinMessage(WARNINGS[code], extra) };
}

function joinMessage(base: string, extra: string | undefined): string {
  if (!extra) return base;
  // A base that is already a full sentence takes the extra text as the next sentence.
  return base.endsWith('。') ? `${base}${extra}` : `${base}：${extra}`;
}
