/**
 * Authenticated encryption of personal data at rest: AES-256-GCM with a key id in the
 * envelope, so data keys can rotate while old records stay readable.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

const VERSION = 1;
const IV_BYTES = 12;
const TAG_BYTES = 16;

export class DataCipher {
  constructor(
    private readonly keys: ReadonlyMap<string, Buffer>,
    private readonly activeKeyId: string,
  ) {
    if (!keys.has(activeKeyId)) throw new Error(`active data key "${activeKeyId}" is not configured`);
  }

  /**
   * Encrypts to `version | keyIdLength | keyId | iv | tag | ciphertext`. The key id is
   * bound as additional authenticated data, so it cannot be swapped.
   */
  encrypt(plaintext: Buffer): Buffer {
    const keyId = Buffer.from(this.activeKeyId, 'utf8');
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.keys.get(this.activeKeyId) as Buffer, iv);
    cipher.setAAD(keyId);
    const ciphertext = Buffer.concat([cipher.update(plaintext), cipher.final()]);
    return Buffer.concat([Buffer.from([VERSION, keyId.length]), keyId, iv, cipher.getAuthTag(), ciphertext]);
  }

  decrypt(envelope: Buffer): Buffer {
    if (envelope[0] !== VERSION) throw new Error(`unknown encryption envelope version ${envelope[0]}`);
    const keyIdLength = envelope[1] ?? 0;
    const keyId = envelope.subarray(2, 2 + keyIdLength);
    const key = this.keys.get(keyId.toString('utf8'));
    if (!key)
      throw new Error(`data key "${keyId.toString('utf8')}" is not configured; it is needed to decrypt`);

    const ivStart = 2 + keyIdLength;
    const tagStart = ivStart + IV_BYTES;
    const decipher = createDecipheriv('aes-256-gcm', key, envelope.subarray(ivStart, tagStart));
    decipher.setAAD(keyId);
    decipher.setAuthTag(envelope.subarray(tagStart, tagStart + TAG_BYTES));
    return Buffer.concat([decipher.update(envelope.subarray(tagStart + TAG_BYTES)), decipher.final()]);
  }

  encryptJson(value: unknown): string {
    return this.encrypt(Buffer.from(JSON.stringify(value), 'utf8')).toString('base64');
  }

  decryptJson<T>(encoded: string): T {
    return JSON.parse(this.decrypt(Buffer.from(encoded, 'base64')).toString('utf8')) as T;
  }
}
