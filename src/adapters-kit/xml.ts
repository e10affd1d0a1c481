/**
 * Strict XML reading for department messages (SOAP envelopes, GBK packets).
 * fast-xml-parser accepts input that is not well-formed and expands DOCTYPE entities,
 * so every document is checked first. A DOCTYPE is rejected outright, because it
 * carries entity expansion and external entity attacks. The text must then validate,
 * with exactly one root element.
 */
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export type XmlNode = Record<string, unknown>;

/** Why a document was not read: `malformed` covers cut-off bodies. */
export type XmlRejection = 'doctype' | 'malformed' | 'structure';

export class XmlRejectedError extends Error {
  override name = 'XmlRejectedError';

  constructor(
    readonly rejection: XmlRejection,
    message: string,
  ) {
    super(message);
  }
}

const DOCTYPE_PATTERN = /<!DOCTYPE/i;

/** Characters outside the XML 1.0 `Char` production; lone surrogates match too. */
// eslint-disable-next-line no-control-regex -- the production allows exactly these three control characters
const NON_XML_CHARACTER = /[^\u0009\u000A\u000D\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;

const PREDEFINED_ENTITIES: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };
const ENTITY_REFERENCE = /&(#x[0-9A-Fa-f]+|#[0-9]+|[A-Za-z][A-Za-z0-9]*);/g;

export function containsDoctype(text: string): boolean {
  return DOCTYPE_PATTERN.test(text);
}

export function containsNonXmlCharacter(text: string): boolean {
  return NON_XML_CHARACTER.test(text);
}

/** Returns the part of a qualified name after its prefix: `soapenv:Body` → `Body`. */
export function localName(qualifiedName: string): string {
  const colon = qualifiedName.indexOf(':');
  return colon === -1 ? qualifiedName : qualifiedName.slice(colon + 1);
}

/**
 * Parses a whole document and returns its root element. Text stays text (no number
 * conversion), so ID numbers and receipt numbers keep their leading zeros.
 */
export function parseXmlDocument(
  text: string,
  arrayElements: ReadonlySet<string>,
): { rootName: string; root: XmlNode } {
  if (containsDoctype(text)) throw new XmlRejectedError('doctype', 'document contains a DOCTYPE declaration');
  const validation = XMLValidator.validate(text);
  if (validation !== true) {
    throw new XmlRejectedError('malformed', `document is not well-formed: ${validation.err.msg}`);
  }

  const document = parseValidated(text, arrayElements);
  const rootNames = Object.keys(document).filter((name) => !name.startsWith('?'));
  const rootName = rootNames[0];
  if (rootNames.length !== 1 || rootName === undefined) {
    throw new XmlRejectedError('malformed', `document has ${rootNames.length} root elements, expected 1`);
  }
  const root = document[rootName];
  return { rootName, root: isXmlNode(root) ? root : {} };
}

function parseValidated(text: string, arrayElements: ReadonlySet<string>): XmlNode {
  const parser = new XMLParser({
    ignoreAttributes: false,
    attributeNamePrefix: '@_',
    parseTagValue: false,
    parseAttributeValue: false,
    entityDecoder: predefinedEntityDecoder,
    isArray: (name, _path, _isLeaf, isAttribute) => !isAttribute && arrayElements.has(localName(name)),
  });
  try {
    return parser.parse(text) as XmlNode;
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new XmlRejectedError('malformed', `document cannot be parsed: ${reason}`);
  }
}

/**
 * Decodes the five predefined entities and character references, which is all XML
 * without a DOCTYPE may contain. Anything else makes the parse fail.
 */
const predefinedEntityDecoder = {
  setExternalEntities: (): void => {},
  addInputEntities: (): void => {},
  reset: (): void => {},
  setXmlVersion: (): void => {},
  decode: (text: string): string => {
    if (!text.includes('&')) return text;
    return text.replace(ENTITY_REFERENCE, (_reference, name: string) => decodeEntity(name));
  },
};

function decodeEntity(name: string): string {
  if (!name.startsWith('#')) {
    const value = PREDEFINED_ENTITIES[name];
    if (value === undefined) throw new Error(`undeclared entity &${name};`);
    return value;
  }

  const codePoint = name.startsWith('#x')
    ? Number.parseInt(name.slice(2), 16)
    : Number.parseInt(name.slice(1), 10);
  const character = codePoint <= 0x10ffff ? String.fromCodePoint(codePoint) : '';
  if (character === '' || containsNonXmlCharacter(character)) {
    throw new Error(`character reference &${name}; is not an XML character`);
  }
  return character;
}

export function isXmlNode(value: unknown): value is XmlNode {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Returns the first child element with the given local name, whatever its prefix. */
export function childElement(node: XmlNode | undefined, name: string): unknown {
  if (!node) return undefined;
  for (const [key, value] of Object.entries(node)) {
    if (!key.startsWith('@_') && localName(key) === name) return value;
  }
  return undefined;
}

export function childNode(node: XmlNode | undefined, name: string): XmlNode | undefined {
  const value = childElement(node, name);
  if (isXmlNode(value)) return value;
  // An empty element such as <Attachments/> parses as an empty string.
  return value === '' ? {} : undefined;
}

export function childNodes(node: XmlNode | undefined, name: string): XmlNode[] {
  const value = childElement(node, name);
  if (Array.isArray(value)) return value.filter(isXmlNode);
  return isXmlNode(value) ? [value] : [];
}

/** Returns a child element's text, or undefined when the child is absent or has child elements. */
export function childText(node: XmlNode | undefined, name: string): string | undefined {
  const value = childElement(node, name);
  if (typeof value === 'string') return value;
  if (isXmlNode(value) && typeof value['#text'] === 'string') return value['#text'];
  if (isXmlNode(value) && Object.keys(value).every((key) => key.startsWith('@_'))) return '';
  return undefined;
}

/** Returns a child's text only when it is present and not empty. */
export function requiredText(node: XmlNode | undefined, name: string): string | undefined {
  const text = childText(node, name);
  return text === undefined || text === '' ? undefined : text;
}
