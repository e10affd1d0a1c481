/**
 * A whole working system on 127.0.0.1: the four department simulators, the platform
 * simulator and a gateway in the `all` role, wired with fresh secrets. Used by the demo
 * and by the end-to-end tests. The fault suite runs the gateway here in the `api` role
 * and starts workers as separate processes with `gatewayEnv`.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request, FormData } from 'undici';
import { startHrssSimulator } from '../../adapters/hrss/simulator.ts';
import { startMedicalSimulator } from '../../adapters/medical/simulator.ts';
import { startPlatformSimulator, type PlatformSimulator } from '../../adapters/platform/simulator.ts';
import { startPoliceSimulator } from '../../adapters/police/simulator.ts';
import { startVeteransSimulator } from '../../adapters/veterans/simulator.ts';
import type {
  FaultInjectingSimulator,
  FaultSettings,
  FaultSimulatorOptions,
} from '../adapters-kit/faults.ts';
import type { DepartmentKey } from '../adapters-kit/types.ts';
import { multipartDigest, signPlatformRequest } from '../api/auth.ts';
import { loadConfig } from '../config.ts';
import { startGateway, type Gateway, type Role } from '../gateway.ts';
import type { Logger } from '../observability/logger.ts';
import { sha256Hex } from '../adapters-kit/signing.ts';
import { freePort } from '../support/ports.ts';

type StartSimulator = (options: FaultSimulatorOptions) => Promise<FaultInjectingSimulator>;

const SIMULATORS: Record<DepartmentKey, StartSimulator> = {
  veterans: startVeteransSimulator,
  police: startPoliceSimulator,
  hrss: startHrssSimulator,
  medical: startMedicalSimulator,
};

export interface Environment {
  gateway: Gateway;
  gatewayUrl: string;
  departments: Record<DepartmentKey, FaultInjectingSimulator>;
  platform: PlatformSimulator;
  appId: string;
  callerSecret: string;
  /**
   * The environment variables the gateway was configured from, for starting more gateway
   * processes. startEnvironment always sets it; stand-ins for this interface may leave it out.
   */
  gatewayEnv?: Record<string, string>;
  close(): Promise<void>;
}

export interface EnvironmentOptions {
  redisUrl: string;
  keyPrefix?: string;
  processingDelayMs?: number;
  policePollIntervalMs?: number;
  logger?: Logger;
  decide?: FaultSimulatorOptions['decide'];
  /** Fault settings of each department simulator at start; they can change later with `setFaults`. */
  faults?: Partial<Record<DepartmentKey, FaultSettings>>;
  /** Role of the gateway in this process; with `api`, workers run elsewhere. Default `all`. */
  role?: Role;
  /** More gateway variables, e.g. `LIANBAN_DEPARTMENT_ATTEMPTS`; they override the ones built here. */
  gatewayEnv?: Record<string, string>;
}

export async function startEnvironment(options: EnvironmentOptions): Promise<Environment> {
  const port = await freePort();
  const gatewayUrl = `http://127.0.0.1:${port}`;
  const documentsDir = await mkdtemp(join(tmpdir(), 'lianban-documents-'));
  const secret = (): string => randomBytes(24).toString('hex');
  const appId = 'ykb-demo';
  const callerSecret = secret();
  const pushSecret = secret();

  const departments = {} as Record<DepartmentKey, FaultInjectingSimulator>;
  const departmentSecrets = {} as Record<DepartmentKey, string>;
  for (const [department, start] of Object.entries(SIMULATORS) as Array<[DepartmentKey, StartSimulator]>) {
    departmentSecrets[department] = secret();
    departments[department] = await start({
      secret: departmentSecrets[department],
      callbackUrl: `${gatewayUrl}/v1/callbacks/${department}`,
      processingDelayMs: options.processingDelayMs ?? 100,
      decide: options.decide,
      faults: options.faults?.[department],
    });
  }
  const platform = await startPlatformSimulator({
    pushSecret,
    gatewayUrl: () => gatewayUrl,
    appId,
    callerSecret,
  });

  const env: Record<string, string> = {
    HOST: '127.0.0.1',
    PORT: String(port),
    REDIS_URL: options.redisUrl,
    LIANBAN_KEY_PREFIX: options.keyPrefix ?? `lb-${randomBytes(4).toString('hex')}`,
    LIANBAN_DATA_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    LIANBAN_DOCUMENTS_DIR: documentsDir,
    LIANBAN_PLATFORM_STATUS_URL: platform.statusUrl,
    LIANBAN_PLATFORM_SECRET: pushSecret,
    LIANBAN_PLATFORM_CALLERS: `${appId}:${callerSecret}`,
    LIANBAN_POLICE_POLL_INTERVAL_MS: String(options.policePollIntervalMs ?? 300),
  };
  for (const department of Object.keys(departments) as DepartmentKey[]) {
    env[`LIANBAN_${department.toUpperCase()}_URL`] = departments[department].url;
    env[`LIANBAN_${department.toUpperCase()}_SECRET`] = departmentSecrets[department];
  }
  Object.assign(env, options.gatewayEnv);
  const gateway = await startGateway(loadConfig(env), options.role ?? 'all', { logger: options.logger });

  return {
    gateway,
    gatewayUrl,
    departments,
    platform,
    appId,
    callerSecret,
    gatewayEnv: env,
    async close() {
      await gateway.close();
      for (const simulator of Object.values(departments)) await simulator.close();
      await platform.close();
      await rm(documentsDir, { recursive: true, force: true });
    },
  };
}

export interface HttpAnswer {
  status: number;
  body: unknown;
}

const REQUEST_TIMEOUT_MS = 30_000;

/** Posts a case as multipart with one file part per material, signed as the platform. */
export async function submitMultipart(
  env: Pick<Environment, 'gatewayUrl' | 'appId' | 'callerSecret'>,
  caseJson: string,
  materials: Record<string, { mediaType: string; content: Buffer }>,
): Promise<HttpAnswer> {
  const form = new FormData();
  form.append('case', caseJson);
  const files: Record<string, Buffer> = {};
  for (const [key, material] of Object.entries(materials)) {
    files[key] = material.content;
    form.append(key, new Blob([material.content], { type: material.mediaType }), `${key}.bin`);
  }
  const headers = signPlatformRequest({
    appId: env.appId,
    secret: env.callerSecret,
    method: 'POST',
    path: '/v1/cases',
    contentDigest: multipartDigest(caseJson, files),
  });
  const response = await request(`${env.gatewayUrl}/v1/cases`, {
    method: 'POST',
    headers,
    body: form,
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
  });
  return { status: response.statusCode, body: await response.body.json() };
}

/** Sends a signed GET as the platform and returns the parsed JSON response. */
export async function getSigned(
  env: Pick<Environment, 'gatewayUrl' | 'appId' | 'callerSecret'>,
  path: string,
): Promise<HttpAnswer> {
  const headers = signPlatformRequest({
    appId: env.appId,
    secret: env.callerSecret,
    method: 'GET',
    path,
    contentDigest: sha256Hex(''),
  });
  const response = await request(`${env.gatewayUrl}${path}`, {
    headers,
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
  });
  return { status: response.statusCode, body: await response.body.json() };
}
