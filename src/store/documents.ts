/**
 * Content-addressed document storage: each file is stored encrypted under the SHA-256
 * of its plaintext, so the same document is stored once and its address proves its bytes.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256Hex } from '../adapters-kit/signing.ts';
import type { DataCipher } from './crypto.ts';

const SHA256_PATTERN = /^[0-9a-f]{64}$/;

export class DocumentStore {
  constructor(
    private readonly directory: string,
    private readonly cipher: DataCipher,
  ) {}

  /** Stores the content and returns its SHA-256 (hex). Storing the same bytes again is a no-op. */
  async put(content: Buffer): Promise<string> {
    const sha256 = sha256Hex(content);
    const path = this.pathOf(sha256);
    await mkdir(join(this.directory, sha256.slice(0, 2)), { recursive: true });

    // Write to a unique temporary name and rename, so a reader never sees a partial file.
    const temporary = `${path}.${randomBytes(6).toString('hex')}.tmp`;
    await writeFile(temporary, this.cipher.encrypt(content));
    await rename(temporary, path);
    return sha256;
  }

  /** Returns the plaintext, or null when no document has that hash. */
  async get(sha256: string): Promise<Buffer | null> {
    if (!SHA256_PATTERN.test(sha256)) return null;
    try {
      const content = this.cipher.decrypt(await readFile(this.pathOf(sha256)));
      if (sha256Hex(content) !== sha256) throw new Error(`document ${sha256} does not match its hash`);
      return content;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
      throw error;
    }
  }

  private pathOf(sha256: string): string {
    return join(this.directory, sha256.slice(0, 2), `${sha256}.bin`);
  }
}

export function isSha256(value: string): boolean {
  return SHA256_PATTERN.test(value);
}
