import { crc32, deflateSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { makeIdCardImage, makeRegistrationPhoto, makeScannedDocument } from '../../src/demo/materials.ts';
import { readImageSize, sniffDocument } from '../../src/intake/sniff.ts';

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

describe('sniffDocument', () => {
  it('identifies a JPEG', async () => {
    expect(await sniffDocument(makeRegistrationPhoto())).toEqual({ mediaType: 'image/jpeg' });
  });

  it('identifies a PNG', async () => {
    expect(await sniffDocument(makePng(40, 30))).toEqual({ mediaType: 'image/png' });
  });

  it('identifies a PDF', async () => {
    const pdf = await makeScannedDocument('退出现役证件');
    expect(await sniffDocument(pdf)).toEqual({ mediaType: 'application/pdf' });
  });

  it('rejects a text file named .jpg', async () => {
    // The sniffer sees only the bytes of "photo.jpg", never its name.
    const textFile = Buffer.from('This is a plain text file saved as photo.jpg\n', 'utf8');
    expect(await sniffDocument(textFile)).toBeNull();
  });

  it('rejects a known type that is not a document', async () => {
    const gif = Buffer.from('R0lGODlhAQABAIAAAAAAAP///yH5BAEAAAAALAAAAAABAAEAAAIBRAA7', 'base64');
    expect(await sniffDocument(gif)).toBeNull();
  });

  it('rejects empty and too short content', async () => {
    expect(await sniffDocument(Buffer.alloc(0))).toBeNull();
    expect(await sniffDocument(makeRegistrationPhoto().subarray(0, 2))).toBeNull();
  });

  it('identifies a truncated JPEG by its signature', async () => {
    const photo = makeRegistrationPhoto();
    const truncated = photo.subarray(0, Math.floor(photo.length / 2));
    expect(await sniffDocument(truncated)).toEqual({ mediaType: 'image/jpeg' });
  });
});

describe('readImageSize', () => {
  it('reads the size of a JPEG', () => {
    expect(readImageSize(makeRegistrationPhoto())).toEqual({ widthPx: 358, heightPx: 441 });
    expect(readImageSize(makeIdCardImage('front'))).toEqual({ widthPx: 856, heightPx: 540 });
  });

  it('reads the size of a PNG', () => {
    expect(readImageSize(makePng(40, 30))).toEqual({ widthPx: 40, heightPx: 30 });
  });

  it('returns null for a JPEG cut before its frame header', () => {
    const truncated = makeRegistrationPhoto().subarray(0, 24);
    expect(readImageSize(truncated)).toBeNull();
  });

  it('still reads a JPEG cut after its frame header', () => {
    // Only the header is parsed, so truncation past it goes unnoticed here.
    const photo = makeRegistrationPhoto();
    const truncated = photo.subarray(0, Math.floor(photo.length / 2));
    expect(readImageSize(truncated)).toEqual({ widthPx: 358, heightPx: 441 });
  });

  it('returns null for a text file', () => {
    expect(readImageSize(Buffer.from('not an image', 'utf8'))).toBeNull();
  });

  it('returns null for a PDF', async () => {
    expect(readImageSize(await makeScannedDocument('亲属关系证明'))).toBeNull();
  });

  it('returns null for empty content', () => {
    expect(readImageSize(Buffer.alloc(0))).toBeNull();
  });
});
