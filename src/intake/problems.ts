/**
 * Codes and Chinese messages for the problems intake finds in a case. All problems of a
 * case are collected and returned together (一次性告知).
 */
import type { ErrorDetail } from '../api/errors.ts';

export const PROBLEMS = {
  LB_ERR_FIELD_SCHEMA: '字段不符合规范',
  LB_ERR_ITEMS_CHECK_IN_MISSING: '必须选择“退役报到”事项，其他事项均在退役报到预审通过后办理。',
  LB_ERR_ITEMS_UNKNOWN: '事项不在本“一件事”范围内',
  LB_ERR_ITEMS_EXCLUSIVE: '以下事项只能选择其一',
  LB_ERR_SECTION_MISSING: '所选事项需要填写本部分信息',
  LB_ERR_SECTION_NOT_NEEDED: '所选事项均不需要本部分信息，请删除后提交',
  LB_ERR_PLACEMENT_UNSUPPORTED:
    '本“一件事”仅受理自主就业的退役军士和义务兵；安排工作、退休、供养人员请到退役军人事务部门窗口办理。',
  LB_ERR_DECLARATION_NOT_AGREED: '请确认本人承诺后提交。',
  LB_ERR_MATERIAL_MISSING: '缺少所选事项需要的材料',
  LB_ERR_MATERIAL_NOT_NEEDED: '所选事项不需要该材料，请删除后提交',
  LB_ERR_MATERIAL_TYPE: '材料文件类型不符合要求，仅接受 JPEG、PNG、PDF（按文件内容识别）',
  LB_ERR_MATERIAL_EMPTY: '材料文件为空',
  LB_ERR_PHOTO_DIMENSIONS: '电子免冠登记照须为宽 358 像素、高 441 像素',
  LB_ERR_PHOTO_SIZE: '电子免冠登记照文件大小须在 30KB 至 90KB 之间',
  LB_ERR_MATERIAL_BASE64: '材料内容不是有效的 Base64 编码',
  LB_ERR_MULTIPART_PART_UNKNOWN: '未知的上传部分名称',
  LB_ERR_MULTIPART_CASE_MISSING: '缺少名为 case 的办件 JSON 部分',
} as const;

export type ProblemCode = keyof typeof PROBLEMS;

export function problem(code: ProblemCode, pointer: string, extra?: string): ErrorDetail {
  return { code, pointer, message: extra ? `${PROBLEMS[code]}：${extra}` : PROBLEMS[code] };
}
