/**
 * Case drafts for the intake rule tables: the fictional typical case and a few bases
 * derived from it, with their materials, and small helpers to change one thing at a time.
 * Every person, number and document here is fictional test data.
 */
import { readFileSync } from 'node:fs';
import { crc32, deflateSync } from 'node:zlib';
import { encode } from 'jpeg-js';
import { makeScannedDocument, makeTypicalMaterials } from '../../src/demo/materials.ts';

type Json = Record<string, unknown>;

export const TYPICAL_CASE = JSON.parse(
  readFileSync(new URL('../../examples/case-typical.json', import.meta.url), 'utf8'),
) as Json;

/** The validator's clock in the tables: 18 minutes after the typical case was submitted. */
export const TABLE_NOW = '2025-09-29T10:00:00+08:00';

export type BaseName =
  'typical' | 'minimal' | 'replacement' | 'residentMedical' | 'medicalChange' | 'reissue';

export interface MaterialSet {
  typical: Record<string, Buffer>;
  extra: Record<string, Buffer>;
  /** A 358×441 PNG: right size, wrong type for the photo, which must be JPEG. */
  png: Buffer;
  /** A 358×441 JPEG far below 30 KB. */
  tinyPhoto: Buffer;
}

export async function makeMaterialSet(): Promise<MaterialSet> {
  const typical = Object.fromEntries(
    Object.entries(await makeTypicalMaterials()).map(([key, material]) => [key, material.content]),
  );
  const extra: Record<string, Buffer> = {};
  for (const [key, title] of Object.entries({
    residenceProof: '合法稳定住所证明（虚构测试材料）',
    marriageCertificate: '结婚证（虚构测试材料）',
    spouseHouseholdBook: '配偶户口簿（虚构测试材料）',
    enlistmentDeregistrationCertificate: '入伍时的注销户口证明（虚构测试材料）',
  })) {
    extra[key] = await makeScannedDocument(title);
  }
  return { typical, extra, png: makePng(358, 441), tinyPhoto: makeFlatJpeg(358, 441) };
}

/** A mutable copy of a case and its uploads, changed with JSON pointers. */
export class CaseDraft {
  constructor(
    readonly form: Json,
    readonly uploads: Record<string, Buffer>,
    private readonly materials: MaterialSet,
  ) {}

  set(pointer: string, value: unknown): this {
    const { parent, key } = this.locate(pointer, true);
    if (Array.isArray(parent)) parent[Number(key)] = value;
    else (parent as Json)[key] = value;
    return this;
  }

  remove(pointer: string): this {
    const { parent, key } = this.locate(pointer, false);
    if (parent && !Array.isArray(parent)) delete (parent as Json)[key];
    return this;
  }

  get(pointer: string): unknown {
    let current: unknown = this.form;
    for (const token of pointer.split('/').slice(1)) current = (current as Json | undefined)?.[token];
    return current;
  }

  addItem(itemKey: string): this {
    (this.form.items as string[]).push(itemKey);
    return this;
  }

  dropItem(itemKey: string): this {
    this.form.items = (this.form.items as string[]).filter((key) => key !== itemKey);
    return this;
  }

  replaceItem(from: string, to: string): this {
    this.form.items = (this.form.items as string[]).map((key) => (key === from ? to : key));
    return this;
  }

  /** Uploads a material: one of the generated documents by key, or the given bytes. */
  upload(material: string, content?: Buffer): this {
    const generated = this.materials.typical[material] ?? this.materials.extra[material];
    const bytes = content ?? generated;
    if (!bytes) throw new Error(`no generated content for material ${material}`);
    this.uploads[material] = bytes;
    return this;
  }

  dropUpload(material: string): this {
    delete this.uploads[material];
    return this;
  }

  private locate(pointer: string, create: boolean): { parent: unknown; key: string } {
    const tokens = pointer.split('/').slice(1);
    const key = tokens.pop() ?? '';
    let parent: unknown = this.form;
    for (const token of tokens) {
      const container = parent as Json;
      if (container[token] === undefined && create) container[token] = {};
      parent = container[token];
    }
    return { parent, key };
  }
}

export function makeDraft(base: BaseName, materials: MaterialSet): CaseDraft {
  const draft = new CaseDraft(structuredClone(TYPICAL_CASE), { ...materials.typical }, materials);
  BASES[base](draft);
  return draft;
}

const BASES: Record<BaseName, (draft: CaseDraft) => void> = {
  typical: () => undefined,

  /** 退役报到 alone, results picked up at the window. */
  minimal: (draft) => {
    for (const section of [
      'settlement',
      'idCardMailing',
      'pension',
      'medicalInsurance',
      'socialSecurityCard',
      'employment',
    ]) {
      draft.remove(`/${section}`);
    }
    draft.set('/items', ['veteran-check-in']).set('/delivery/method', 'pickup');
    for (const material of ['idCardFront', 'idCardBack', 'medicalTransferVoucher', 'kinshipProof'])
      draft.dropUpload(material);
  },

  /** 居民身份证补领 (lost card) in place of 换领. */
  replacement: (draft) => {
    draft.replaceItem('id-card-renewal', 'id-card-replacement');
    draft.set('/idCardReplacement', { lossPlace: '重庆市沙坪坝区测试路', lossDate: '2025-09-01' });
    draft.dropUpload('idCardFront').dropUpload('idCardBack');
  },

  /** 城乡居民医保参保 in place of employee insurance; the transfer is not supported with it. */
  residentMedical: (draft) => {
    draft.replaceItem('employee-medical-enrollment', 'resident-medical-enrollment');
    draft.dropItem('medical-insurance-transfer').dropUpload('medicalTransferVoucher');
  },

  /** 职工参保信息变更 (phone) for someone already insured in Chongqing. */
  medicalChange: (draft) => {
    draft.dropItem('employee-medical-enrollment').dropItem('medical-insurance-transfer');
    draft.addItem('employee-medical-change').dropUpload('medicalTransferVoucher');
    draft.remove('/medicalInsurance');
    draft.set('/medicalInsuranceChange', {
      field: 'phone',
      oldValue: '13800000000',
      newValue: '13900000000',
      reason: '更换手机号码',
    });
  },

  /** 社会保障卡补领、换领、换发 in place of the first application. */
  reissue: (draft) => {
    draft.replaceItem('social-security-card-application', 'social-security-card-reissue');
    draft.set('/socialSecurityCard/businessType', 'replacement');
  },
};

/** Encodes an opaque grey RGB image as a minimal PNG (signature, IHDR, IDAT, IEND). */
function makePng(widthPx: number, heightPx: number): Buffer {
  const header = Buffer.alloc(13);
  header.writeUInt32BE(widthPx, 0);
  header.writeUInt32BE(heightPx, 4);
  header[8] = 8; // bit depth
  header[9] = 2; // colour type: truecolour RGB
  const rowBytes = 1 + widthPx * 3;
  const scanlines = Buffer.alloc(rowBytes * heightPx, 0x80);
  for (let row = 0; row < heightPx; row += 1) scanlines[row * rowBytes] = 0; // filter type: none
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([
    signature,
    pngChunk('IHDR', header),
    pngChunk('IDAT', deflateSync(scanlines)),
    pngChunk('IEND', Buffer.alloc(0)),
  ]);
}

function pngChunk(type: string, data: Buffer): Buffer {
  const length = Buffer.alloc(4);
  length.writeUInt32BE(data.length);
  const typeAndData = Buffer.concat([Buffer.from(type, 'ascii'), data]);
  const checksum = Buffer.alloc(4);
  checksum.writeUInt32BE(crc32(typeAndData));
  return Buffer.concat([length, typeAndData, checksum]);
}

/** A flat grey JPEG: a uniform image compresses to a few kilobytes at any quality. */
function makeFlatJpeg(widthPx: number, heightPx: number): Buffer {
  const data = Buffer.alloc(widthPx * heightPx * 4, 0x80);
  return Buffer.from(encode({ data, width: widthPx, height: heightPx }, 50).data);
}
