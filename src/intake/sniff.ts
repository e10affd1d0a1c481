/**
 * Identifies uploaded documents by their content. The file name and the media type the
 * platform declared are never trusted: a text file renamed `.jpg` is not a JPEG.
 */
import { fileTypeFromBuffer } from 'file-type';
import { imageSize } from 'image-size';

/** Media types accepted for uploaded materials. */
export type DocumentMediaType = 'image/jpeg' | 'image/png' | 'application/pdf';

const DOCUMENT_MEDIA_TYPES: ReadonlySet<string> = new Set<DocumentMediaType>([
  'image/jpeg',
  'image/png',
  'application/pdf',
]);

/**
 * Detects the media type from the file's signature (magic bytes). Returns null for
 * content of any other type and for content too short to identify.
 */
export async function sniffDocument(content: Buffer): Promise<{ mediaType: DocumentMediaType } | null> {
  const detected = await fileTypeFromBuffer(content);
  if (!detected || !isDocumentMediaType(detected.mime)) return null;

  return { mediaType: detected.mime };
}

/**
 * Reads an image's stored pixel size from its header. Returns null when the header
 * cannot be parsed. An EXIF orientation tag is not applied, so a JPEG stored sideways
 * reports its stored width and height.
 *
 * NOTE: only the header is read, so a JPEG cut off after its frame header still
 * reports a size. Decoding the whole image is what would catch that.
 */
export function readImageSize(content: Buffer): { widthPx: number; heightPx: number } | null {
  let dimensions: ReturnType<typeof imageSize>;
  try {
    dimensions = imageSize(content);
  } catch {
    return null;
  }

  const { width, height } = dimensions;
  if (!isPositiveInteger(width) || !isPositiveInteger(height)) return null;
  return { widthPx: width, heightPx: height };
}

function isDocumentMediaType(mime: string): mime is DocumentMediaType {
  return DOCUMENT_MEDIA_TYPES.has(mime);
}

function isPositiveInteger(value: number | undefined): value is number {
  return value !== undefined && Number.isInteger(value) && value > 0;
}
