import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import { imageSize } from 'image-size';
import { decode } from 'jpeg-js';
import { PDFDocument } from 'pdf-lib';
import { describe, expect, it } from 'vitest';
import {
  ID_CARD_IMAGE,
  REGISTRATION_PHOTO,
  makeIdCardImage,
  makeRegistrationPhoto,
  makeScannedDocument,
  makeTypicalMaterials,
} from '../../src/demo/materials.ts';
import { sniffDocument } from '../../src/intake/sniff.ts';

interface BundleItem {
  key: string;
  needs: string[];
}

interface BundleContract {
  items: BundleItem[];
  materials: Record<
    string,
    { source: string; image?: { widthPx: number; heightPx: number; minBytes: number; maxBytes: number } }
  >;
}

const bundle = JSON.parse(
  readFileSync(new URL('../../contracts/veteran-service/bundle.json', import.meta.url), 'utf8'),
) as BundleContract;

const typicalCase = JSON.parse(
  readFileSync(new URL('../../examples/case-typical.json', import.meta.url), 'utf8'),
) as { items: string[]; settlement: { type: string } };

const JPEG_START = Buffer.from([0xff, 0xd8, 0xff]);
const JPEG_END = Buffer.from([0xff, 0xd9]);

function expectJpeg(content: Buffer): void {
  expect(content.subarray(0, 3)).toEqual(JPEG_START);
  expect(content.subarray(-2)).toEqual(JPEG_END);
}

/** Inflates and joins every Flate stream of a PDF, so a test can search the page content. */
function inflatedStreams(pdf: Buffer): string {
  const text = pdf.toString('latin1');
  const parts: string[] = [];
  for (const match of text.matchAll(/stream\r?\n([\s\S]*?)\r?\nendstream/g)) {
    const body = Buffer.from(match[1] ?? '', 'latin1');
    try {
      parts.push(inflateSync(body).toString('latin1'));
    } catch {
      parts.push(body.toString('latin1'));
    }
  }
  return parts.join('\n');
}

function hexOf(text: string): string {
  return Buffer.from(text, 'latin1').toString('hex').toUpperCase();
}

describe('makeRegistrationPhoto', () => {
  it('has the exact pixel size', () => {
    const { width, height } = imageSize(makeRegistrationPhoto());
    expect(width).toBe(358);
    expect(height).toBe(441);
  });

  it('lands in the byte range for several seeds', () => {
    for (const seed of [1, 2, 3, 42, 2025]) {
      const photo = makeRegistrationPhoto(seed);
      expect(photo.length, `seed ${seed}`).toBeGreaterThanOrEqual(30 * 1024);
      expect(photo.length, `seed ${seed}`).toBeLessThanOrEqual(90 * 1024);
    }
  });

  it('matches the photo rule of the bundle contract', () => {
    expect(bundle.materials.photo?.image).toEqual(REGISTRATION_PHOTO);
  });

  it('is a complete JPEG', () => {
    const photo = makeRegistrationPhoto();
    expectJpeg(photo);
    const decoded = decode(photo, { useTArray: true });
    expect(decoded.width).toBe(358);
    expect(decoded.height).toBe(441);
  });

  it('is marked fictional in a JPEG comment', () => {
    expect(makeRegistrationPhoto().includes('FICTIONAL TEST MATERIAL')).toBe(true);
  });

  it('is deterministic per seed', () => {
    expect(makeRegistrationPhoto(7).equals(makeRegistrationPhoto(7))).toBe(true);
    expect(makeRegistrationPhoto(7).equals(makeRegistrationPhoto(8))).toBe(false);
  });
});

describe('makeIdCardImage', () => {
  it('has ID card proportions on both sides', () => {
    for (const side of ['front', 'back'] as const) {
      const { width, height } = imageSize(makeIdCardImage(side));
      expect(width, side).toBe(ID_CARD_IMAGE.widthPx);
      expect(height, side).toBe(ID_CARD_IMAGE.heightPx);
    }
    expect(ID_CARD_IMAGE.widthPx / ID_CARD_IMAGE.heightPx).toBeCloseTo(85.6 / 54, 3);
  });

  it('is a complete JPEG marked fictional', () => {
    for (const side of ['front', 'back'] as const) {
      const image = makeIdCardImage(side);
      expectJpeg(image);
      expect(decode(image, { useTArray: true }).width, side).toBe(856);
      expect(image.includes('FICTIONAL TEST MATERIAL'), side).toBe(true);
    }
  });

  it('is deterministic and differs by side', () => {
    expect(makeIdCardImage('front').equals(makeIdCardImage('front'))).toBe(true);
    expect(makeIdCardImage('front').equals(makeIdCardImage('back'))).toBe(false);
  });
});

describe('makeScannedDocument', () => {
  it('is a complete PDF', async () => {
    const pdf = await makeScannedDocument('退出现役证件');
    expect(pdf.subarray(0, 5).toString('latin1')).toBe('%PDF-');
    expect(pdf.toString('latin1').trimEnd().endsWith('%%EOF')).toBe(true);
  });

  it('carries the title in its metadata', async () => {
    const pdf = await makeScannedDocument('亲属关系证明（虚构测试材料）');
    const loaded = await PDFDocument.load(pdf, { updateMetadata: false });
    expect(loaded.getTitle()).toBe('亲属关系证明（虚构测试材料）');
    expect(loaded.getPageCount()).toBe(1);
  });

  it('says FICTIONAL TEST DOCUMENT on the page', async () => {
    const content = inflatedStreams(await makeScannedDocument('退出现役证件'));
    expect(content).toContain(`<${hexOf('FICTIONAL TEST DOCUMENT')}>`);
  });

  it('is deterministic per title', async () => {
    const first = await makeScannedDocument('退出现役证件');
    const second = await makeScannedDocument('退出现役证件');
    const other = await makeScannedDocument('亲属关系证明');
    expect(first.equals(second)).toBe(true);
    expect(first.equals(other)).toBe(false);
  });
});

describe('makeTypicalMaterials', () => {
  it('covers every upload the typical case needs', async () => {
    const selected = bundle.items.filter((item) => typicalCase.items.includes(item.key));
    const uploads = new Set(
      selected
        .flatMap((item) => item.needs)
        .filter((material) => bundle.materials[material]?.source === 'upload'),
    );
    expect(typicalCase.settlement.type).toBe('with-parents');
    uploads.add('kinshipProof');

    const materials = await makeTypicalMaterials();
    expect(Object.keys(materials).sort()).toEqual([...uploads].sort());
  });

  it('declares the media type its content has', async () => {
    const materials = await makeTypicalMaterials();
    for (const [key, material] of Object.entries(materials)) {
      expect(await sniffDocument(material.content), key).toEqual({ mediaType: material.mediaType });
    }
  });

  it('is deterministic', async () => {
    const first = await makeTypicalMaterials();
    const second = await makeTypicalMaterials();
    for (const [key, material] of Object.entries(first)) {
      expect(material.content.equals(second[key]?.content ?? Buffer.alloc(0)), key).toBe(true);
    }
  });
});
