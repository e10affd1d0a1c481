/**
 * The hrss (人力资源和社会保障部门) packet: GBK-encoded XML with a head (transaction
 * code, sequence number, send time, channel, MAC) and a body, as described in
 * contracts/hrss/hrss-packet.xsd.
 *
 * MAC rule: lowercase hex HMAC-SHA256 with the shared secret over the packet's GBK
 * bytes exactly as sent, with the text of `<mac>` left out (the bytes contain
 * `<mac></mac>`). It covers the declaration, every head field and the body, so no part
 * of a packet can be changed or moved to another packet.
 */
import { XMLBuilder } from 'fast-xml-parser';
import iconv from 'iconv-lite';
import { hexDigestsEqual, hmacSha256Hex, sha256Hex } from '../../src/adapters-kit/signing.ts';
import {
  childNode,
  isXmlNode,
  parseXmlDocument,
  XmlRejectedError,
  type XmlNode,
} from '../../src/adapters-kit/xml.ts';

export const HRSS_GATEWAY_PATH = '/hrss/gateway';
export const HRSS_CONTENT_TYPE = 'text/xml; charset=GBK';
export const HRSS_CHANNEL = 'LIANBAN';
/** Transaction code of the result notice the department posts to the gateway. */
export const CALLBACK_TRAN_CODE = 'CB0001';
export const RET_CODE_SUCCESS = '0000';

/** Callback status codes and the gateway's outcome statuses. */
export const HRSS_STATUS_CODES = { '01': 'accepted', '02': 'completed', '03': 'rejected' } as const;
export type HrssStatusCode = keyof typeof HRSS_STATUS_CODES;

/** Head fields in the order they are written. `mac` always comes last. */
const HEAD_FIELDS = ['tranCode', 'seqNo', 'sendTime', 'channel', 'eventId', 'retCode', 'retMsg'] as const;

export type PacketHead = Partial<Record<(typeof HEAD_FIELDS)[number], string>> & { tranCode: string };

export interface Packet {
  head: Record<string, string>;
  body: XmlNode;
}

const XML_DECLARATION = '<?xml version="1.0" encoding="GBK"?>';
const GBK_LABELS = new Set(['gbk', 'gb2312', 'gb18030', 'cp936']);
const ARRAY_ELEMENTS = new Set(['attachment']);

const MAC_OPEN = Buffer.from('<mac>');
const MAC_CLOSE = Buffer.from('</mac>');
const MAC_PATTERN = /^[0-9a-f]{64}$/;

const builder = new XMLBuilder({ suppressEmptyNode: false });

/** Returns whether every character of the text has a GBK encoding. */
export function isGbkEncodable(text: string): boolean {
  return iconv.decode(iconv.encode(text, 'gbk'), 'gbk') === text;
}

/**
 * Encodes a packet in GBK and fills in its MAC. Throws when some text has no GBK
 * encoding: iconv-lite would silently write `?` for it.
 */
export function encodePacket(head: PacketHead, body: XmlNode, secret: string): Buffer {
  const orderedHead: Record<string, string> = {};
  for (const name of HEAD_FIELDS) {
    const value = head[name];
    if (value !== undefined) orderedHead[name] = value;
  }
  orderedHead['mac'] = '';

  const xml = XML_DECLARATION + builder.build({ packet: { head: orderedHead, body } });
  if (!isGbkEncodable(xml)) throw new Error('packet contains characters that GBK cannot encode');
  const unsigned = iconv.encode(xml, 'gbk');

  const macStart = unsigned.indexOf(MAC_OPEN) + MAC_OPEN.length;
  const mac = Buffer.from(hmacSha256Hex(secret, unsigned), 'latin1');
  return Buffer.concat([unsigned.subarray(0, macStart), mac, unsigned.subarray(macStart)]);
}

/**
 * Verifies the MAC of a packet as received. A byte search is safe in GBK: `<` (0x3C) is
 * never the second byte of a double-byte character, whose second byte is 0x40 to 0xFE.
 */
export function verifyPacketMac(packet: Buffer, secret: string): boolean {
  const open = packet.indexOf(MAC_OPEN);
  const close = packet.indexOf(MAC_CLOSE, open);
  if (open === -1 || close === -1 || packet.indexOf(MAC_OPEN, open + 1) !== -1) return false;

  const macStart = open + MAC_OPEN.length;
  const mac = packet.subarray(macStart, close).toString('latin1');
  if (!MAC_PATTERN.test(mac)) return false;
  const unsigned = Buffer.concat([packet.subarray(0, macStart), packet.subarray(close)]);
  return hexDigestsEqual(hmacSha256Hex(secret, unsigned), mac);
}

/** Decodes GBK bytes. Invalid or cut-off byte sequences make the packet `malformed`. */
export function decodeGbk(bytes: Buffer): string {
  const text = iconv.decode(bytes, 'gbk');
  // iconv-lite writes U+FFFD for bytes it cannot decode, and GBK has no U+FFFD of its own.
  if (text.includes('\uFFFD'))
    throw new XmlRejectedError('malformed', 'packet is not valid GBK or is cut off');
  return text;
}

/**
 * Parses a decoded packet. Throws `XmlRejectedError`: `doctype` and `malformed` from
 * the XML reader, `structure` when it is not a `packet` with a head and a body or
 * declares an encoding other than GBK.
 */
export function parsePacket(text: string): Packet {
  const { rootName, root } = parseXmlDocument(text, ARRAY_ELEMENTS);
  const declared = declaredEncoding(text);
  if (declared !== undefined && !GBK_LABELS.has(declared.toLowerCase())) {
    throw new XmlRejectedError('structure', `packet declares encoding ${declared}, expected GBK`);
  }
  if (rootName !== 'packet')
    throw new XmlRejectedError('structure', `root element is ${rootName}, expected packet`);

  const head = childNode(root, 'head');
  const body = childNode(root, 'body');
  if (!head || !body) throw new XmlRejectedError('structure', 'packet lacks head or body');
  return { head: headFields(head), body };
}

function declaredEncoding(text: string): string | undefined {
  return /^<\?xml[^>]*\sencoding\s*=\s*["']([^"']+)["']/.exec(text)?.[1];
}

function headFields(head: XmlNode): Record<string, string> {
  const fields: Record<string, string> = {};
  for (const [name, value] of Object.entries(head)) {
    if (typeof value === 'string') fields[name] = value;
    else if (isXmlNode(value) && typeof value['#text'] === 'string') fields[name] = value['#text'];
  }
  return fields;
}

/** Derives the department's 32-character seqNo from the gateway's idempotency key. */
export function hrssSequenceNumber(idempotencyKey: string): string {
  return sha256Hex(idempotencyKey).slice(0, 32).toUpperCase();
}

const BEIJING_OFFSET_MS = 8 * 60 * 60 * 1000;
const COMPACT_TIME_PATTERN = /^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})$/;

/** Formats epoch milliseconds as the department's `yyyyMMddHHmmss` in Beijing time. */
export function formatCompactTime(epochMs: number): string {
  return new Date(epochMs + BEIJING_OFFSET_MS).toISOString().slice(0, 19).replace(/[-T:]/g, '');
}

/** Converts `yyyyMMddHHmmss` Beijing time to ISO 8601 with +08:00, or undefined when it is not a real time. */
export function compactTimeToIso(text: string | undefined): string | undefined {
  const match = COMPACT_TIME_PATTERN.exec(text ?? '');
  if (!match) return undefined;

  const [compact, year, month, day, hour, minute, second] = match;
  const iso = `${year}-${month}-${day}T${hour}:${minute}:${second}+08:00`;
  const epochMs = Date.parse(iso);
  // Date.parse rolls 2025-02-30 over to March, so only a time that formats back to the same text is real.
  return !Number.isNaN(epochMs) && formatCompactTime(epochMs) === compact ? iso : undefined;
}
