/**
 * A whole system on 127.0.0.1 for the resilience tests, like `startEnvironment`, but with
 * configuration overrides (attempts, backoff, breaker thresholds), an operator token for
 * the admin API, and simulators typed with their fault injection.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { request } from 'undici';
import { startHrssSimulator, type HrssSimulator } from '../../adapters/hrss/simulator.ts';
import { startMedicalSimulator, type MedicalSimulator } from '../../adapters/medical/simulator.ts';
import { startPlatformSimulator, type PlatformSimulator } from '../../adapters/platform/simulator.ts';
import { startPoliceSimulator, type PoliceSimulator } from '../../adapters/police/simulator.ts';
import { startVeteransSimulator, type VeteransSimulator } from '../../adapters/veterans/simulator.ts';
import type { SimulatorOptions } from '../../src/adapters-kit/simulator.ts';
import { loadConfig } from '../../src/config.ts';
import { makeTypicalMaterials } from '../../src/demo/materials.ts';
import { submitMultipart } from '../../src/demo/environment.ts';
import { startGateway, type Gateway, type Role } from '../../src/gateway.ts';
import type { Logger } from '../../src/observability/logger.ts';
import { freePort } from '../../src/support/ports.ts';
import { TYPICAL_CASE_JSON } from '../support/gateway-env.ts';

export interface ResilienceDepartments {
  veterans: VeteransSimulator;
  police: PoliceSimulator;
  hrss: HrssSimulator;
  medical: MedicalSimulator;
}

export interface ResilienceEnvironment {
  gateway: Gateway;
  gatewayUrl: string;
  departments: ResilienceDepartments;
  platform: PlatformSimulator;
  appId: string;
  callerSecret: string;
  operatorName: string;
  operatorToken: string;
  /** The environment variables the gateway was configured with. */
  env: Record<string, string>;
  close(): Promise<void>;
}

export interface ResilienceEnvironmentOptions {
  redisUrl: string;
  /** Extra or overriding gateway environment variables. */
  env?: Record<string, string>;
  processingDelayMs?: number;
  logger?: Logger;
  decide?: SimulatorOptions['decide'];
  role?: Role;
}

const REQUEST_TIMEOUT_MS = 30_000;

export async function startResilienceEnvironment(
  options: ResilienceEnvironmentOptions,
): Promise<ResilienceEnvironment> {
  const port = await freePort();
  const gatewayUrl = `http://127.0.0.1:${port}`;
  const documentsDir = await mkdtemp(join(tmpdir(), 'lianban-resilience-documents-'));
  const secret = (): string => randomBytes(24).toString('hex');
  const appId = 'ykb-resilience';
  const callerSecret = secret();
  const pushSecret = secret();
  const operatorName = 'test-operator';
  const operatorToken = secret();

  const secrets = { veterans: secret(), police: secret(), hrss: secret(), medical: secret() };
  const simulatorOptions = (department: keyof typeof secrets): SimulatorOptions => ({
    secret: secrets[department],
    callbackUrl: `${gatewayUrl}/v1/callbacks/${department}`,
    processingDelayMs: options.processingDelayMs ?? 50,
    decide: options.decide,
  });
  const departments: ResilienceDepartments = {
    veterans: await startVeteransSimulator(simulatorOptions('veterans')),
    police: await startPoliceSimulator(simulatorOptions('police')),
    hrss: await startHrssSimulator(simulatorOptions('hrss')),
    medical: await startMedicalSimulator(simulatorOptions('medical')),
  };
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
    LIANBAN_KEY_PREFIX: `lb-${randomBytes(4).toString('hex')}`,
    LIANBAN_DATA_KEYS: `k1:${randomBytes(32).toString('base64')}`,
    LIANBAN_DOCUMENTS_DIR: documentsDir,
    LIANBAN_PLATFORM_STATUS_URL: platform.statusUrl,
    LIANBAN_PLATFORM_SECRET: pushSecret,
    LIANBAN_PLATFORM_CALLERS: `${appId}:${callerSecret}`,
    LIANBAN_OPERATOR_TOKENS: `${operatorName}:${operatorToken}`,
    LIANBAN_POLICE_POLL_INTERVAL_MS: '100',
    LIANBAN_RETRY_BASE_DELAY_MS: '50',
    LIANBAN_RETRY_MAX_DELAY_MS: '200',
  };
  for (const department of Object.keys(secrets) as Array<keyof typeof secrets>) {
    env[`LIANBAN_${department.toUpperCase()}_URL`] = departments[department].url;
    env[`LIANBAN_${department.toUpperCase()}_SECRET`] = secrets[department];
  }
  Object.assign(env, options.env ?? {});
  const gateway = await startGateway(loadConfig(env), options.role ?? 'all', { logger: options.logger });

  return {
    gateway,
    gatewayUrl,
    departments,
    platform,
    appId,
    callerSecret,
    operatorName,
    operatorToken,
    env,
    async close() {
      await gateway.close();
      for (const simulator of Object.values(departments)) await simulator.close();
      await platform.close();
      await rm(documentsDir, { recursive: true, force: true });
    },
  };
}

/** Submits the fictional typical case with a fresh platform case id and returns the gateway case id. */
export async function submitTypicalCase(env: ResilienceEnvironment): Promise<string> {
  const form = JSON.parse(TYPICAL_CASE_JSON) as Record<string, unknown>;
  form.platformCaseId = `YKB-500106-20250929-${randomBytes(3).toString('hex').toUpperCase()}`;
  const answer = await submitMultipart(env, JSON.stringify(form), await makeTypicalMaterials());
  if (answer.status !== 202) throw new Error(`case submission returned HTTP ${answer.status}`);
  return (answer.body as { caseId: string }).caseId;
}

/** Calls the admin API as the test operator and returns the status and the parsed body. */
export async function callAdmin(
  env: ResilienceEnvironment,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
): Promise<{ status: number; body: unknown }> {
  const response = await request(`${env.gatewayUrl}${path}`, {
    method,
    headers: {
      authorization: `Bearer ${env.operatorToken}`,
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    body: body === undefined ? undefined : JSON.stringify(body),
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
  });
  return { status: response.statusCode, body: await response.body.json() };
}

/** Reads the gateway's Prometheus text. */
export async function readMetrics(env: ResilienceEnvironment): Promise<string> {
  const response = await request(`${env.gatewayUrl}/metrics`, {
    headersTimeout: REQUEST_TIMEOUT_MS,
    bodyTimeout: REQUEST_TIMEOUT_MS,
  });
  return response.body.text();
}
