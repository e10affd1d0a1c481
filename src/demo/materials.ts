/**
 * Fictional materials for the demo and the tests: a registration photo that meets the
 * bundle's photo rule, images of an old ID card and scanned documents as PDF. Every file
 * is marked fictional (a JPEG comment, the word FICTIONAL across the ID card images, the
 * page text and metadata of the PDFs), and the same arguments always give the same bytes.
 */
import { encode } from 'jpeg-js';
import { PDFDocument, StandardFonts, rgb, type PDFFont, type PDFPage } from 'pdf-lib';

export interface DemoMaterial {
  mediaType: 'image/jpeg' | 'application/pdf';
  content: Buffer;
}

/** The registration photo rule (电子免冠登记照): exact pixel size and a byte range. */
export const REGISTRATION_PHOTO = {
  widthPx: 358,
  heightPx: 441,
  minBytes: 30 * 1024,
  maxBytes: 90 * 1024,
} as const;

/** An ID-1 card (85.6 mm × 54.0 mm, ISO/IEC 7810) at 10 px per mm. */
export const ID_CARD_IMAGE = { widthPx: 856, heightPx: 540 } as const;

type Rgb = readonly [number, number, number];

/** Shade of a pixel inside an ellipse, given its normalised distance from the centre (0 to 1). */
type EllipseShade = (distance: number) => Rgb;

const FICTIONAL_JPEG_COMMENT = 'FICTIONAL TEST MATERIAL - not a real document or person';
const FICTIONAL_RED: Rgb = [196, 24, 24];

/** RGBA pixel buffer in the layout that jpeg-js encodes. */
class Raster {
  readonly data: Buffer;

  constructor(
    readonly width: number,
    readonly height: number,
  ) {
    this.data = Buffer.alloc(width * height * 4, 255);
  }

  getPixel(x: number, y: number): Rgb {
    const offset = (y * this.width + x) * 4;
    return [this.data[offset] ?? 0, this.data[offset + 1] ?? 0, this.data[offset + 2] ?? 0];
  }

  setPixel(x: number, y: number, color: Rgb): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const offset = (y * this.width + x) * 4;
    this.data[offset] = clampByte(color[0]);
    this.data[offset + 1] = clampByte(color[1]);
    this.data[offset + 2] = clampByte(color[2]);
    this.data[offset + 3] = 255;
  }

  blendPixel(x: number, y: number, color: Rgb, opacity: number): void {
    if (x < 0 || y < 0 || x >= this.width || y >= this.height) return;
    const [red, green, blue] = this.getPixel(x, y);
    this.setPixel(x, y, [
      red + (color[0] - red) * opacity,
      green + (color[1] - green) * opacity,
      blue + (color[2] - blue) * opacity,
    ]);
  }

  paint(colorAt: (x: number, y: number) => Rgb): void {
    for (let y = 0; y < this.height; y += 1) {
      for (let x = 0; x < this.width; x += 1) this.setPixel(x, y, colorAt(x, y));
    }
  }

  fillRect(left: number, top: number, width: number, height: number, color: Rgb): void {
    for (let y = top; y < top + height; y += 1) {
      for (let x = left; x < left + width; x += 1) this.setPixel(x, y, color);
    }
  }

  fillEllipse(centerX: number, centerY: number, radiusX: number, radiusY: number, shade: EllipseShade): void {
    for (let y = Math.floor(centerY - radiusY); y <= Math.ceil(centerY + radiusY); y += 1) {
      for (let x = Math.floor(centerX - radiusX); x <= Math.ceil(centerX + radiusX); x += 1) {
        const distance = Math.hypot((x - centerX) / radiusX, (y - centerY) / radiusY);
        if (distance <= 1) this.setPixel(x, y, shade(distance));
      }
    }
  }

  toJpeg(quality: number): Buffer {
    const encoded = encode(
      { width: this.width, height: this.height, data: this.data, comments: [FICTIONAL_JPEG_COMMENT] },
      quality,
    );
    return Buffer.from(encoded.data);
  }
}

/**
 * Makes a fictional registration photo: a JPEG of exactly 358×441 px whose size lies
 * between 30 KB and 90 KB. The same seed always gives the same bytes.
 *
 * The picture is a head and shoulders on a gradient background with mild noise. Without
 * the noise, a synthetic picture this size stays far below 30 KB at usual qualities
 * (about 12 KB at quality 90 with jpeg-js). The quality is then chosen by binary search
 * until the size falls in range.
 */
export function makeRegistrationPhoto(seed = 1): Buffer {
  const raster = new Raster(REGISTRATION_PHOTO.widthPx, REGISTRATION_PHOTO.heightPx);
  drawPortrait(raster);
  addNoise(raster, createRandom(seed), 7);
  return encodeWithinSize(raster, REGISTRATION_PHOTO.minBytes, REGISTRATION_PHOTO.maxBytes);
}

/** Makes an image of one side of a fictional old ID card, with FICTIONAL written across it. */
export function makeIdCardImage(side: 'front' | 'back'): Buffer {
  const raster = new Raster(ID_CARD_IMAGE.widthPx, ID_CARD_IMAGE.heightPx);
  drawCardBackground(raster, side);
  if (side === 'front') drawCardFront(raster);
  else drawCardBack(raster);
  drawFictionalMarks(raster);
  addNoise(raster, createRandom(side === 'front' ? 11 : 12), 3);
  return raster.toJpeg(85);
}

/**
 * Makes a one-page PDF that looks like a scanned document. The standard PDF fonts cannot
 * draw Chinese, so the page text is ASCII and the (usually Chinese) title goes into the
 * PDF metadata.
 */
export async function makeScannedDocument(title: string): Promise<Buffer> {
  // Without updateMetadata: false, pdf-lib stamps the current time into the file.
  const document = await PDFDocument.create({ updateMetadata: false });
  setFictionalMetadata(document, title);

  const regular = await document.embedFont(StandardFonts.Helvetica);
  const bold = await document.embedFont(StandardFonts.HelveticaBold);
  drawScannedPage(document.addPage(A4_SIZE_PT), regular, bold);
  // A classic cross-reference table, because PDF readers older than PDF 1.5 cannot read object streams.
  return Buffer.from(await document.save({ useObjectStreams: false }));
}

/**
 * Makes every uploaded material that the typical case needs for its ten items: the
 * check-in materials ①–④, the old ID card ⑦ for the renewal, the medical insurance
 * transfer voucher ⑨ and the proof of kinship for settling with parents.
 */
export async function makeTypicalMaterials(): Promise<Record<string, DemoMaterial>> {
  return {
    photo: { mediaType: 'image/jpeg', content: makeRegistrationPhoto() },
    dischargeCertificate: await makeFictionalPdf('退出现役证件'),
    dischargeReferralLetter: await makeFictionalPdf('军士和义务兵退出现役行政介绍信'),
    veteranRegistrationForm: await makeFictionalPdf('重庆市退役士兵信息登记表'),
    idCardFront: { mediaType: 'image/jpeg', content: makeIdCardImage('front') },
    idCardBack: { mediaType: 'image/jpeg', content: makeIdCardImage('back') },
    medicalTransferVoucher: await makeFictionalPdf('义务兵退役医疗保险金转移凭证'),
    kinshipProof: await makeFictionalPdf('亲属关系证明'),
  };
}

async function makeFictionalPdf(documentName: string): Promise<DemoMaterial> {
  return {
    mediaType: 'application/pdf',
    content: await makeScannedDocument(`${documentName}（虚构测试材料）`),
  };
}

/** Encodes at a quality whose output fits the byte range, found by binary search over 10 to 100. */
function encodeWithinSize(raster: Raster, minBytes: number, maxBytes: number): Buffer {
  let lowQuality = 10;
  let highQuality = 100;
  while (lowQuality <= highQuality) {
    const quality = Math.floor((lowQuality + highQuality) / 2);
    const jpeg = raster.toJpeg(quality);
    if (jpeg.length >= minBytes && jpeg.length <= maxBytes) return jpeg;
    if (jpeg.length > maxBytes) highQuality = quality - 1;
    else lowQuality = quality + 1;
  }
  throw new Error(`no JPEG quality gives a size between ${minBytes} and ${maxBytes} bytes`);
}

function drawPortrait(raster: Raster): void {
  const centerX = raster.width / 2;
  raster.paint((_x, y) => mix([214, 232, 248], [168, 200, 232], y / raster.height));

  raster.fillEllipse(centerX, 540, 215, 175, solid([38, 52, 80]));
  raster.fillEllipse(centerX, 392, 58, 36, solid([240, 240, 236]));
  raster.fillRect(centerX - 42, 296, 84, 100, [206, 166, 136]);

  raster.fillEllipse(centerX, 172, 110, 128, solid([36, 28, 24]));
  for (const side of [-1, 1]) raster.fillEllipse(centerX + side * 98, 214, 15, 30, solid([214, 174, 144]));
  raster.fillEllipse(centerX, 210, 97, 120, (distance) => darken([232, 196, 166], 0.2 * distance ** 2));
  drawFace(raster, centerX);
}

function drawFace(raster: Raster, centerX: number): void {
  for (const side of [-1, 1]) {
    raster.fillRect(Math.round(centerX + side * 38 - 20), 170, 40, 7, [48, 36, 30]);
    raster.fillEllipse(centerX + side * 38, 196, 14, 7, solid([250, 250, 248]));
    raster.fillEllipse(centerX + side * 38, 196, 6, 6, solid([44, 34, 30]));
  }
  raster.fillEllipse(centerX, 240, 9, 18, (distance) => darken([226, 188, 158], 0.08 * (1 - distance)));
  raster.fillEllipse(centerX, 282, 27, 6, solid([178, 104, 98]));
}

function drawCardBackground(raster: Raster, side: 'front' | 'back'): void {
  const [top, bottom]: [Rgb, Rgb] =
    side === 'front'
      ? [
          [226, 238, 242],
          [204, 222, 234],
        ]
      : [
          [236, 238, 226],
          [214, 226, 210],
        ];
  raster.paint((x, y) => {
    const base = mix(top, bottom, y / raster.height);
    // A wavy line pattern in the style of security printing (底纹), purely decorative.
    const wave = Math.abs(Math.sin(x / 23 + 3 * Math.sin(y / 41)));
    return wave < 0.06 ? darken(base, 0.12) : base;
  });
}

function drawCardFront(raster: Raster): void {
  raster.fillRect(600, 80, 200, 250, [236, 238, 240]);
  raster.fillEllipse(700, 290, 85, 60, solid([150, 156, 166]));
  raster.fillEllipse(700, 180, 52, 66, solid([176, 182, 192]));

  for (const [top, width] of [
    [90, 260],
    [150, 200],
    [210, 360],
    [270, 420],
  ] as const) {
    raster.fillRect(60, top, 70, 22, [120, 140, 160]);
    raster.fillRect(150, top, width, 22, [70, 76, 84]);
  }
  raster.fillRect(60, 440, 160, 26, [120, 140, 160]);
  raster.fillRect(240, 440, 520, 26, [40, 44, 50]);
}

function drawCardBack(raster: Raster): void {
  raster.fillEllipse(130, 130, 72, 72, solid([204, 40, 36]));
  raster.fillEllipse(130, 130, 56, 56, solid([240, 206, 80]));
  raster.fillRect(260, 90, 480, 40, [44, 48, 56]);
  raster.fillRect(300, 160, 400, 34, [44, 48, 56]);

  for (const top of [390, 450]) {
    raster.fillRect(160, top, 120, 22, [120, 140, 160]);
    raster.fillRect(300, top, 380, 22, [70, 76, 84]);
  }
}

function drawFictionalMarks(raster: Raster): void {
  for (let y = 0; y < raster.height; y += 1) {
    for (let x = 0; x < raster.width; x += 1) {
      if ((x + y) % 64 < 12) raster.blendPixel(x, y, FICTIONAL_RED, 0.16);
    }
  }
  drawBlockText(raster, 'FICTIONAL', 12, FICTIONAL_RED);
}

/** 5×7 glyphs for the letters of FICTIONAL, where `#` marks an inked cell. */
const GLYPHS: Readonly<Record<string, readonly string[]>> = {
  F: ['#####', '#....', '#....', '####.', '#....', '#....', '#....'],
  I: ['#####', '..#..', '..#..', '..#..', '..#..', '..#..', '#####'],
  C: ['.####', '#....', '#....', '#....', '#....', '#....', '.####'],
  T: ['#####', '..#..', '..#..', '..#..', '..#..', '..#..', '..#..'],
  O: ['.###.', '#...#', '#...#', '#...#', '#...#', '#...#', '.###.'],
  N: ['#...#', '##..#', '##..#', '#.#.#', '#..##', '#..##', '#...#'],
  A: ['.###.', '#...#', '#...#', '#####', '#...#', '#...#', '#...#'],
  L: ['#....', '#....', '#....', '#....', '#....', '#....', '#####'],
};

/** Draws the text centred on the raster, each glyph cell `cellPx` pixels square. */
function drawBlockText(raster: Raster, text: string, cellPx: number, color: Rgb): void {
  const advanceCells = 6;
  const widthPx = (text.length * advanceCells - 1) * cellPx;
  const left = Math.round((raster.width - widthPx) / 2);
  const top = Math.round((raster.height - 7 * cellPx) / 2);

  [...text].forEach((letter, index) => {
    const rows = GLYPHS[letter];
    if (!rows) throw new Error(`no glyph for ${JSON.stringify(letter)}`);
    rows.forEach((row, rowIndex) => {
      [...row].forEach((cell, columnIndex) => {
        if (cell !== '#') return;
        const x = left + (index * advanceCells + columnIndex) * cellPx;
        raster.fillRect(x, top + rowIndex * cellPx, cellPx, cellPx, color);
      });
    });
  });
}

/** Adds uniform noise of ±amplitude to every channel, from the seeded generator. */
function addNoise(raster: Raster, random: () => number, amplitude: number): void {
  for (let y = 0; y < raster.height; y += 1) {
    for (let x = 0; x < raster.width; x += 1) {
      const [red, green, blue] = raster.getPixel(x, y);
      const offset = (random() * 2 - 1) * amplitude;
      raster.setPixel(x, y, [red + offset, green + offset, blue + offset]);
    }
  }
}

/** Xorshift32 (Marsaglia, 2003): a small seeded generator, so materials are reproducible. */
function createRandom(seed: number): () => number {
  let state = seed >>> 0 || 1;
  return () => {
    state ^= state << 13;
    state ^= state >>> 17;
    state ^= state << 5;
    state >>>= 0;
    return state / 2 ** 32;
  };
}

const A4_SIZE_PT: [number, number] = [595.28, 841.89];
const FIXED_METADATA_DATE = new Date('2025-01-01T00:00:00Z');

function setFictionalMetadata(document: PDFDocument, title: string): void {
  document.setTitle(title);
  document.setSubject('Fictional test document for the Lianban demo and tests; not a real document');
  document.setKeywords(['fictional', 'test']);
  document.setCreator('Lianban demo materials');
  document.setProducer('pdf-lib');
  document.setCreationDate(FIXED_METADATA_DATE);
  document.setModificationDate(FIXED_METADATA_DATE);
}

function drawScannedPage(page: PDFPage, regular: PDFFont, bold: PDFFont): void {
  const { width, height } = page.getSize();
  page.drawRectangle({ x: 0, y: 0, width, height, color: rgb(0.97, 0.965, 0.94) });
  page.drawRectangle({
    x: 40,
    y: 40,
    width: width - 80,
    height: height - 80,
    borderColor: rgb(0.3, 0.3, 0.3),
    borderWidth: 1,
  });

  page.drawText('FICTIONAL TEST DOCUMENT', { x: 72, y: height - 110, size: 22, font: bold });
  page.drawText('Generated for the Lianban demo and tests. Not a real document.', {
    x: 72,
    y: height - 135,
    size: 10,
    font: regular,
  });

  // Grey bars stand in for lines of text, so the page reads as a filled-in form.
  for (let line = 0; line < 18; line += 1) {
    const barWidth = 300 + ((line * 97) % 150);
    page.drawRectangle({
      x: 72,
      y: height - 190 - line * 26,
      width: barWidth,
      height: 8,
      color: rgb(0.55, 0.55, 0.55),
    });
  }

  drawStamp(page, bold, { x: width - 150, y: 150 });
}

/** Draws a round red stamp (公章) placeholder that reads FICTIONAL. */
function drawStamp(page: PDFPage, font: PDFFont, center: { x: number; y: number }): void {
  const red = rgb(0.8, 0.1, 0.1);
  const label = 'FICTIONAL';
  const labelSizePt = 12;
  page.drawCircle({ ...center, size: 56, borderColor: red, borderWidth: 3 });
  page.drawText(label, {
    x: center.x - font.widthOfTextAtSize(label, labelSizePt) / 2,
    y: center.y - labelSizePt / 3,
    size: labelSizePt,
    font,
    color: red,
  });
}

function solid(color: Rgb): EllipseShade {
  return () => color;
}

function mix(from: Rgb, to: Rgb, share: number): Rgb {
  return [
    from[0] + (to[0] - from[0]) * share,
    from[1] + (to[1] - from[1]) * share,
    from[2] + (to[2] - from[2]) * share,
  ];
}

function darken(color: Rgb, share: number): Rgb {
  return [color[0] * (1 - share), color[1] * (1 - share), color[2] * (1 - share)];
}

function clampByte(value: number): number {
  return Math.max(0, Math.min(255, Math.round(value)));
}
