/**
 * Intake transport: size limits answer 413 and store nothing, broken multipart answers
 * 400 (never 500), a client that disconnects mid-upload leaves nothing behind, and the
 * body reaches intake exactly as sent (no coercion, no removal of fields).
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.ts';
import { startGateway, type Gateway } from '../../src/gateway.ts';
import { createLogger } from '../../src/observability/logger.ts';
import { freePort } from '../../src/support/ports.ts';
import { makeDraft, makeMaterialSet, type MaterialSet } from '../intake/case-drafts.ts';
import {
  documentFiles,
  postCase,
  postJsonCase,
  postMultipartCase,
  storedCaseKeys,
  type ErrorBody,
  type SignedCaller,
} from '../intake/http-harness.ts';
import { startTestRedis, type TestRedis } from '../support/redis.ts';

/** Small enough to exceed quickly, large enough for the fictional materials (the photo is under 90 KB). */
const MAX_UPLOAD_BYTES = 200_000;

describe('intake transport', () => {
  let redis: TestRedis;
  let gateway: Gateway;
  let documentsDir: string;
  let caller: SignedCaller;
  let materials: MaterialSet;

  beforeAll(async () => {
    redis = await startTestRedis();
    documentsDir = await mkdtemp(join(tmpdir(), 'lianban-transport-documents-'));
    const callerSecret = randomBytes(24).toString('hex');
    const config = loadConfig({
      HOST: '127.0.0.1',
      PORT: String(await freePort()),
      REDIS_URL: redis.url,
      LIANBAN_KEY_PREFIX: `lb-${randomBytes(4).toString('hex')}`,
      LIANBAN_DATA_KEYS: `k1:${randomBytes(32).toString('base64')}`,
      LIANBAN_DOCUMENTS_DIR: documentsDir,
      LIANBAN_PLATFORM_CALLERS: `ykb-test:${callerSecret}`,
      LIANBAN_MAX_UPLOAD_BYTES: String(MAX_UPLOAD_BYTES),
    });
    gateway = await startGateway(config, 'api', { logger: createLogger({ level: 'silent' }) });
    caller = { gatewayUrl: gateway.url ?? '', appId: 'ykb-test', callerSecret };
    materials = await makeMaterialSet();
  });

  afterAll(async () => {
    await gateway?.close();
    await redis?.stop();
    await rm(documentsDir, { recursive: true, force: true });
  });

  async function expectNothingStored(): Promise<void> {
    expect(await storedCaseKeys(gateway)).toEqual([]);
    expect(await documentFiles(documentsDir)).toEqual([]);
  }

  function typical(): { form: Record<string, unknown>; uploads: Record<string, Buffer> } {
    const draft = makeDraft('typical', materials);
    return { form: draft.form, uploads: draft.uploads };
  }

  /** A PDF-looking file of the given size: the signature, then filler. */
  function pdfOfSize(bytes: number): Buffer {
    return Buffer.concat([Buffer.from('%PDF-1.7\n'), Buffer.alloc(bytes - 9, 0x20)]);
  }

  it('answers a file over the limit with 413 as multipart', async () => {
    const { form, uploads } = typical();
    const answer = await postMultipartCase(caller, JSON.stringify(form), {
      ...uploads,
      dischargeCertificate: pdfOfSize(MAX_UPLOAD_BYTES + 1),
    });
    expect(answer.status).toBe(413);
    expect((answer.body as ErrorBody).code).toBe('LB_ERR_REQUEST_TOO_LARGE');
    await expectNothingStored();
  });

  it('answers a file over the limit with 413 as JSON', async () => {
    const { form, uploads } = typical();
    const answer = await postJsonCase(caller, form, {
      ...uploads,
      dischargeCertificate: pdfOfSize(MAX_UPLOAD_BYTES + 1),
    });
    expect(answer.status).toBe(413);
    await expectNothingStored();
  });

  it('answers files over the case total with 413', async () => {
    // Each file is under the per-file limit; together they pass four times that limit.
    const { form, uploads } = typical();
    const big = pdfOfSize(MAX_UPLOAD_BYTES - 1000);
    const answer = await postMultipartCase(caller, JSON.stringify(form), {
      ...uploads,
      dischargeCertificate: big,
      dischargeReferralLetter: big,
      veteranRegistrationForm: big,
      medicalTransferVoucher: big,
      kinshipProof: big,
    });
    expect(answer.status).toBe(413);
    await expectNothingStored();
  });

  it('answers a case part over 1 MiB with 413', async () => {
    const { form, uploads } = typical();
    const padded = JSON.stringify({ ...form, padding: 'x'.repeat(1024 * 1024) });
    const answer = await postMultipartCase(caller, padded, uploads);
    expect(answer.status).toBe(413);
    await expectNothingStored();
  });

  it('answers a JSON body over the limit with 413', async () => {
    // Over the case JSON (1 MiB) plus four files of the limit in base64.
    const body = Buffer.alloc(4 * 1024 * 1024, 0x20);
    const answer = await postCase(caller, body, 'application/json');
    expect(answer.status).toBe(413);
    await expectNothingStored();
  });

  it('answers more file parts than allowed with 413', async () => {
    const { form } = typical();
    const files = Object.fromEntries(
      Array.from({ length: 25 }, (_, index) => [`part${index}`, pdfOfSize(100)]),
    );
    const answer = await postMultipartCase(caller, JSON.stringify(form), files);
    expect(answer.status).toBe(413);
    await expectNothingStored();
  });

  it('answers multipart without a boundary with 400', async () => {
    const answer = await postCase(caller, '--x\r\n', 'multipart/form-data');
    expect(answer.status).toBe(400);
    expect((answer.body as ErrorBody).code).toBe('LB_ERR_REQUEST_MULTIPART_INVALID');
    await expectNothingStored();
  });

  it('answers a broken boundary with 400', async () => {
    const body = '--other\r\nContent-Disposition: form-data; name="case"\r\n\r\n{}\r\n--other--\r\n';
    const answer = await postCase(caller, body, 'multipart/form-data; boundary=expected');
    expect(answer.status).toBeGreaterThanOrEqual(400);
    expect(answer.status).toBeLessThan(500);
    await expectNothingStored();
  });

  it('answers a body cut before its closing boundary with 400', async () => {
    const body = '--b\r\nContent-Disposition: form-data; name="case"\r\n\r\n{"platformCaseId":"YKB-1"';
    const answer = await postCase(caller, body, 'multipart/form-data; boundary=b');
    expect(answer.status).toBe(400);
    await expectNothingStored();
  });

  it('reports every framing and form problem together', async () => {
    const { form, uploads } = typical();
    const body = JSON.stringify({
      ...form,
      materials: { photo: { mediaType: 'image/jpeg', dataBase64: 'not base64!' } },
    });
    const answer = await postCase(caller, body, 'application/json');
    expect(answer.status).toBe(422);
    const pointers = (answer.body as ErrorBody).details.map((detail) => `${detail.code} ${detail.pointer}`);
    expect(pointers).toContain('LB_ERR_MATERIAL_BASE64 /materials/photo/dataBase64');
    expect(pointers).toContain('LB_ERR_MATERIAL_MISSING /materials/dischargeCertificate');
    // The photo was sent, only badly encoded, so it is not reported as missing too.
    expect(pointers).not.toContain('LB_ERR_MATERIAL_MISSING /materials/photo');
    expect(Object.keys(uploads).length).toBeGreaterThan(0);
    await expectNothingStored();
  });

  it('reports a missing case part after the signature check', async () => {
    const answer = await postMultipartCase(caller, '', {});
    // An empty text part is a case part with invalid JSON.
    expect(answer.status).toBe(400);
    expect((answer.body as ErrorBody).code).toBe('LB_ERR_REQUEST_INVALID_JSON');
  });

  it('keeps a null where a string is expected', async () => {
    const { form, uploads } = typical();
    (form.applicant as Record<string, unknown>).name = null;
    const answer = await postJsonCase(caller, form, uploads);
    expect(answer.status).toBe(422);
    expect((answer.body as ErrorBody).details.map((detail) => `${detail.code} ${detail.pointer}`)).toEqual([
      'LB_ERR_FIELD_TYPE /applicant/name',
    ]);
    await expectNothingStored();
  });

  it('keeps numbers as text and extra fields as sent', async () => {
    const { form, uploads } = typical();
    (form.employment as Record<string, unknown>).expectedMonthlySalaryYuan = '6000';
    (form.applicant as Record<string, unknown>).nickname = '测试';
    const answer = await postJsonCase(caller, form, uploads);
    expect(answer.status).toBe(422);
    expect(
      (answer.body as ErrorBody).details.map((detail) => `${detail.code} ${detail.pointer}`).sort(),
    ).toEqual([
      'LB_ERR_FIELD_TYPE /employment/expectedMonthlySalaryYuan',
      'LB_ERR_FIELD_UNKNOWN /applicant/nickname',
    ]);
  });

  it('leaves nothing behind when the client disconnects mid-upload', async () => {
    const { form, uploads } = typical();
    const boundary = `----fictional${randomBytes(8).toString('hex')}`;
    const head = Buffer.from(
      `--${boundary}\r\nContent-Disposition: form-data; name="case"\r\n\r\n${JSON.stringify(form)}\r\n` +
        `--${boundary}\r\nContent-Disposition: form-data; name="photo"; filename="photo.jpg"\r\n` +
        'Content-Type: image/jpeg\r\n\r\n',
    );
    const photo = uploads.photo ?? Buffer.alloc(0);
    const declaredLength = head.length + photo.length * 3;
    const { port } = new URL(caller.gatewayUrl);

    await new Promise<void>((resolve, reject) => {
      const socket = connect({ host: '127.0.0.1', port: Number(port) }, () => {
        socket.write(
          `POST /v1/cases HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: multipart/form-data; boundary=${boundary}\r\n` +
            `Content-Length: ${declaredLength}\r\n\r\n`,
        );
        socket.write(head);
        socket.write(photo.subarray(0, photo.length / 2), () => setTimeout(() => socket.destroy(), 100));
      });
      socket.setTimeout(5_000, () => socket.destroy(new Error('socket timed out')));
      socket.on('close', () => resolve());
      socket.on('error', reject);
    });
    await new Promise((resolve) => setTimeout(resolve, 300));

    await expectNothingStored();
    const next = await postCase(caller, '{"platformCaseId": ', 'application/json');
    expect(next.status).toBe(400);
  });

  it('stores the case once everything is in order', async () => {
    const { form, uploads } = typical();
    const answer = await postMultipartCase(caller, JSON.stringify(form), uploads);
    expect(answer.status).toBe(202);
    const files = await documentFiles(documentsDir);
    expect(files.length).toBe(Object.keys(uploads).length);
    // Stored under the content hash; the client's file name `../../photo.exe` is not used.
    for (const file of files) expect(file).toMatch(/\/[0-9a-f]{2}\/[0-9a-f]{64}\.bin$/);
  });
});
