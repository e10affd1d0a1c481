/**
 * SOAP 1.1 envelopes and faults of the police service, as declared in
 * contracts/police/police-service.wsdl (document/literal binding).
 */
import { XMLBuilder } from 'fast-xml-parser';
import {
  childNode,
  childText,
  isXmlNode,
  localName,
  parseXmlDocument,
  requiredText,
  XmlRejectedError,
  type XmlNode,
} from '../../src/adapters-kit/xml.ts';

export const SOAP_ENVELOPE_NAMESPACE = 'http://schemas.xmlsoap.org/soap/envelope/';
export const POLICE_NAMESPACE = 'urn:lianban:police:v1';
export const POLICE_SERVICE_PATH = '/services/PoliceService';

/** HTTP header with `t=<unix seconds>,v1=<hex>`: HMAC-SHA256 over `<t>.` and the envelope bytes. */
export const SIGNATURE_HEADER = 'x-lianban-signature';

/** Department document codes (DocumentCodeType) and the bundle's material keys. */
export const POLICE_DOCUMENT_KINDS = { SFZDZHCL: 'electronicIdMaterial' } as const;

export const POLICE_OPERATIONS = {
  SubmitApplication: {
    soapAction: `${POLICE_NAMESPACE}/SubmitApplication`,
    requestElement: 'SubmitApplicationRequest',
    responseElement: 'SubmitApplicationResponse',
  },
  QueryStatus: {
    soapAction: `${POLICE_NAMESPACE}/QueryStatus`,
    requestElement: 'QueryStatusRequest',
    responseElement: 'QueryStatusResponse',
  },
} as const;

export type PoliceOperation = keyof typeof POLICE_OPERATIONS;

/** The SOAP header blocks every request carries. */
export interface PoliceRequestHeader {
  RequestId: string;
  ReferenceNo: string;
}

/** Detail of a `Client` fault that refuses an application (不予受理). */
export interface PoliceRefusal {
  refusalCode: string;
  reason: string;
  legalBasis: string;
}

/** Codes of the `ServiceError` fault detail (ErrorCodeType in the WSDL). */
export type PoliceErrorCode =
  | 'MALFORMED-ENVELOPE'
  | 'UNKNOWN-OPERATION'
  | 'SIGNATURE-INVALID'
  | 'MISSING-HEADER'
  | 'INVALID-REQUEST'
  | 'RECEIPT-NOT-FOUND'
  | 'SYSTEM-ERROR';

export interface SoapFault {
  /** The faultcode QName as sent, e.g. `soap:Server`. */
  faultCode: string;
  /** `Client`, `Server`, `VersionMismatch` or `MustUnderstand`, without prefix or subcode. */
  faultClass: string;
  faultString: string;
  refusal?: Partial<PoliceRefusal>;
  errorCode?: string;
}

export interface SoapMessage {
  header: XmlNode | undefined;
  body: XmlNode;
}

/** Elements that may repeat, so they always parse as arrays. */
const ARRAY_ELEMENTS = new Set(['Attachment', 'Document']);

const builder = new XMLBuilder({
  ignoreAttributes: false,
  attributeNamePrefix: '@_',
  suppressEmptyNode: false,
});

const XML_DECLARATION = '<?xml version="1.0" encoding="utf-8"?>';

/**
 * Builds an envelope whose header blocks and payload are in the police namespace,
 * declared as the default namespace on each of them.
 */
export function buildEnvelope(
  header: PoliceRequestHeader | undefined,
  payloadName: string,
  payload: XmlNode,
): string {
  const envelope: XmlNode = { '@_xmlns:soapenv': SOAP_ENVELOPE_NAMESPACE };
  if (header) {
    envelope['soapenv:Header'] = {
      RequestId: { '@_xmlns': POLICE_NAMESPACE, '#text': header.RequestId },
      ReferenceNo: { '@_xmlns': POLICE_NAMESPACE, '#text': header.ReferenceNo },
    };
  }
  envelope['soapenv:Body'] = { [payloadName]: { '@_xmlns': POLICE_NAMESPACE, ...payload } };
  return XML_DECLARATION + builder.build({ 'soapenv:Envelope': envelope });
}

/** Builds a SOAP 1.1 fault envelope with a BusinessRefusal or ServiceError detail. */
export function buildFault(
  faultClass: 'Client' | 'Server',
  faultString: string,
  detail: { refusal: PoliceRefusal } | { errorCode: PoliceErrorCode },
): string {
  const detailElement =
    'refusal' in detail
      ? {
          BusinessRefusal: {
            '@_xmlns': POLICE_NAMESPACE,
            RefusalCode: detail.refusal.refusalCode,
            Reason: detail.refusal.reason,
            LegalBasis: detail.refusal.legalBasis,
          },
        }
      : { ServiceError: { '@_xmlns': POLICE_NAMESPACE, ErrorCode: detail.errorCode } };

  const fault = {
    faultcode: `soapenv:${faultClass}`,
    faultstring: { '@_xml:lang': 'zh-CN', '#text': faultString },
    detail: detailElement,
  };
  const envelope = { '@_xmlns:soapenv': SOAP_ENVELOPE_NAMESPACE, 'soapenv:Body': { 'soapenv:Fault': fault } };
  return XML_DECLARATION + builder.build({ 'soapenv:Envelope': envelope });
}

/**
 * Parses a SOAP 1.1 envelope. Throws `XmlRejectedError`: `doctype` and `malformed`
 * from the XML reader, `structure` when the document is well-formed but not a SOAP
 * 1.1 envelope with a Body (a SOAP 1.2 envelope has another namespace).
 */
export function parseEnvelope(text: string): SoapMessage {
  const { rootName, root } = parseXmlDocument(text, ARRAY_ELEMENTS);
  if (localName(rootName) !== 'Envelope') {
    throw new XmlRejectedError('structure', `root element is ${rootName}, expected a SOAP Envelope`);
  }
  if (envelopeNamespace(rootName, root) !== SOAP_ENVELOPE_NAMESPACE) {
    throw new XmlRejectedError('structure', 'Envelope is not in the SOAP 1.1 namespace');
  }

  const body = childNode(root, 'Body');
  if (!body) throw new XmlRejectedError('structure', 'Envelope has no Body');
  return { header: childNode(root, 'Header'), body };
}

function envelopeNamespace(rootName: string, root: XmlNode): unknown {
  const colon = rootName.indexOf(':');
  const declaration = colon === -1 ? '@_xmlns' : `@_xmlns:${rootName.slice(0, colon)}`;
  return root[declaration];
}

/** Returns the Body's payload element and its local name, skipping attributes. */
export function bodyPayload(body: XmlNode): { name: string; node: XmlNode } | undefined {
  for (const [key, value] of Object.entries(body)) {
    if (key.startsWith('@_') || key === '#text') continue;
    return { name: localName(key), node: isXmlNode(value) ? value : {} };
  }
  return undefined;
}

/** Reads the Fault in a Body, or returns undefined when the Body contains no Fault. */
export function readFault(body: XmlNode): SoapFault | undefined {
  const fault = childNode(body, 'Fault');
  if (!fault) return undefined;

  const faultCode = childText(fault, 'faultcode') ?? '';
  const detail = childNode(fault, 'detail');
  const refusal = childNode(detail, 'BusinessRefusal');
  const serviceError = childNode(detail, 'ServiceError');
  return {
    faultCode,
    // A faultcode is a QName and may carry a dotted subcode, e.g. `soap:Client.Authentication`.
    faultClass: localName(faultCode).split('.')[0] ?? '',
    faultString: childText(fault, 'faultstring') ?? '',
    refusal: refusal && {
      refusalCode: requiredText(refusal, 'RefusalCode'),
      reason: requiredText(refusal, 'Reason'),
      legalBasis: requiredText(refusal, 'LegalBasis'),
    },
    errorCode: requiredText(serviceError, 'ErrorCode'),
  };
}

export function readRequestHeader(header: XmlNode | undefined): Partial<PoliceRequestHeader> {
  return { RequestId: requiredText(header, 'RequestId'), ReferenceNo: requiredText(header, 'ReferenceNo') };
}
