/**
 * The fault suite's run: 200 cases go through the gateway while the department
 * simulators inject faults. During the run a worker process dies by SIGKILL in the
 * middle of department calls, the test's Redis restarts, and hrss is down for longer
 * than its retry budget. The API runs in this process in the `api` role, and workers
 * run as child processes. The run ends by itself: when every case is final and every
 * push delivered, or at a deadline.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { FaultCounts, FaultSettings } from '../../../src/adapters-kit/faults.ts';
import { DEPARTMENTS, type DepartmentKey } from '../../../src/adapters-kit/types.ts';
import {
  getSigned,
  startEnvironment,
  submitMultipart,
  type Environment,
} from '../../../src/demo/environment.ts';
import { createLogger } from '../../../src/observability/logger.ts';
import type { CaseStatus, PushItem } from '../../../src/store/records.ts';
import { startTestRedis, type TestRedis } from '../../support/redis.ts';
import { buildFaultCases, decideForSuite, type FaultCase } from './cases.ts';
import { emptyTally, remainingDeadLetters, replayDeadLetters, type ReplayTally } from './replay.ts';
import { startWorkerProcess, type WorkerProcess } from './worker-process.ts';

export const CASE_COUNT = 200;
/** The department taken down for longer than its retry budget. */
export const DOWN_DEPARTMENT: DepartmentKey = 'hrss';

const SUBMIT_CONCURRENCY = 6;
const SUBMIT_ATTEMPTS = 10;
const RUN_DEADLINE_MS = 12 * 60_000;
const DOWNTIME_MS = 6_000;
const POLL_MS = 500;

/**
 * About one submit in five fails: errors, timeouts, resets and broken bodies. A held
 * response (12 s) outlasts the adapters' 10 s header timeout, so each timeout costs a
 * worker slot 10 s; the rate stays low to keep the run within minutes.
 */
const COMMON_FAULTS: FaultSettings = {
  latencyMs: 5,
  latencyJitterMs: 20,
  errorRate: 0.15,
  timeoutRate: 0.02,
  timeoutHoldMs: 12_000,
  resetRate: 0.03,
  malformedRate: 0.02,
  earlyResultRate: 0.25,
  duplicateCallbacks: true,
};

const FAULTS: Record<DepartmentKey, FaultSettings> = {
  veterans: { ...COMMON_FAULTS, seed: 101 },
  // Police status queries draw faults as well, so polls are retried through errors too.
  police: { ...COMMON_FAULTS, seed: 202, scope: 'all' },
  hrss: { ...COMMON_FAULTS, seed: 303 },
  medical: { ...COMMON_FAULTS, seed: 404 },
};

/**
 * Small retry delays and five attempts: a call that keeps failing is dead-lettered after
 * at most 0.1 + 0.2 + 0.4 + 0.8 = 1.5 s of backoff, well inside the 6 s downtime.
 */
const GATEWAY_ENV: Record<string, string> = {
  LIANBAN_DEPARTMENT_ATTEMPTS: '5',
  LIANBAN_RETRY_BASE_DELAY_MS: '100',
  LIANBAN_RETRY_MAX_DELAY_MS: '1000',
  LIANBAN_DEPARTMENT_CALLS_PER_SECOND: '500',
  LIANBAN_REPLAYS_PER_SECOND: '500',
  LIANBAN_BREAKER_RESET_TIMEOUT_MS: '1000',
  LIANBAN_BREAKER_WINDOW_MS: '10000',
  LIANBAN_BREAKER_VOLUME_THRESHOLD: '20',
  LOG_LEVEL: 'info',
};

/**
 * The second worker keeps its breakers closed (an error rate above 100 % never occurs).
 * An open breaker pauses the queue without spending attempts, so with it the downtime
 * would end without dead letters; the first worker keeps the breakers working.
 */
const SECOND_WORKER_ENV: Record<string, string> = { LIANBAN_BREAKER_ERROR_PERCENT: '100' };

export interface CaseView {
  caseId: string;
  platformCaseId: string;
  status: CaseStatus;
  items: PushItem[];
}

export interface ScenarioEvents {
  /** Department jobs active when the first worker was killed. */
  activeJobsAtKill: number;
  killedAtMs: number;
  redisRestartedAtMs: number;
  downtime: { department: DepartmentKey; fromMs: number; untilMs: number };
  /** Dead letters of each department just before the first replay. */
  deadLettersBeforeReplay: Record<string, number>;
}

export interface ScenarioResult {
  cases: FaultCase[];
  /** Gateway case id by platform case id. */
  caseIds: Map<string, string>;
  views: Map<string, CaseView>;
  /** Case ids returned with HTTP 202 that the gateway cannot find afterwards. */
  missingCases: string[];
  /** Responses to submissions that were sent again, e.g. `HTTP 500 LB_ERR_INTERNAL`. */
  intakeRetries: string[];
  events: ScenarioEvents;
  replayed: ReplayTally;
  remainingAfterReplay: Record<string, number>;
  faultCounts: Record<DepartmentKey, FaultCounts>;
  /** Submit requests each department received, repeats included, beside the items it registered. */
  traffic: Record<DepartmentKey, { requests: number; items: number }>;
  durationsMs: { total: number; submit: number; settle: number };
  logFiles: string[];
}

export class FaultScenario {
  env!: Environment;
  private redis!: TestRedis;
  private logDir!: string;
  private worker: WorkerProcess | undefined;
  private readonly logFiles: string[] = [];
  private readonly intakeRetries: string[] = [];

  async start(): Promise<void> {
    this.redis = await startTestRedis();
    this.logDir = await mkdtemp(join(tmpdir(), 'lianban-fault-suite-'));
    const apiLog = join(this.logDir, 'api.log');
    this.logFiles.push(apiLog);
    this.env = await startEnvironment({
      redisUrl: this.redis.url,
      role: 'api',
      processingDelayMs: 40,
      policePollIntervalMs: 250,
      logger: createLogger({ file: apiLog, level: 'info' }),
      decide: decideForSuite,
      faults: FAULTS,
      gatewayEnv: GATEWAY_ENV,
    });
  }

  async run(): Promise<ScenarioResult> {
    const startedAtMs = Date.now();
    const cases = await buildFaultCases(CASE_COUNT);
    this.worker = await this.startWorker(1, {});

    const caseIds = new Map<string, string>();
    const submitting = this.submitAll(cases, caseIds);
    // Awaited below; the handler only keeps an early failure from being reported as unhandled.
    submitting.catch(() => undefined);
    const killed = await this.killWorkerMidCall();
    this.worker = await this.startWorker(2, SECOND_WORKER_ENV);
    const redisRestartedAtMs = await this.restartRedis(caseIds);
    const downtime = await this.takeDepartmentDown();
    await submitting;
    const submittedAtMs = Date.now();

    await pause(Math.max(downtime.untilMs - Date.now(), 0));
    const deadLettersBeforeReplay = await this.env.gateway.deadLetters.counts();
    const tally = emptyTally();
    await this.settle(caseIds, tally, startedAtMs);
    const { views, missingCases } = await this.readViews(caseIds);
    await this.waitForPlatform(views, startedAtMs);
    const finishedAtMs = Date.now();

    return {
      cases,
      caseIds,
      views,
      missingCases,
      intakeRetries: [...this.intakeRetries],
      events: { ...killed, redisRestartedAtMs, downtime, deadLettersBeforeReplay },
      replayed: tally,
      remainingAfterReplay: await remainingDeadLetters(this.env.gateway),
      faultCounts: this.faultCounts(),
      traffic: this.traffic(),
      durationsMs: {
        total: finishedAtMs - startedAtMs,
        submit: submittedAtMs - startedAtMs,
        settle: finishedAtMs - submittedAtMs,
      },
      logFiles: [...this.logFiles],
    };
  }

  async close(): Promise<void> {
    await this.worker?.stop('SIGTERM');
    await this.env?.close();
    await this.redis?.stop();
    if (!this.logDir) return;
    if (process.env.LIANBAN_FAULT_SUITE_KEEP_LOGS === '1')
      console.info(`fault suite logs kept in ${this.logDir}`);
    else await rm(this.logDir, { recursive: true, force: true });
  }

  private async startWorker(number: number, extraEnv: Record<string, string>): Promise<WorkerProcess> {
    const logFile = join(this.logDir, `worker-${number}.log`);
    this.logFiles.push(logFile);
    if (!this.env.gatewayEnv) throw new Error('the environment did not expose its gateway variables');
    return startWorkerProcess({ ...this.env.gatewayEnv, ...extraEnv }, logFile);
  }

  /** Submits every case, a few at a time; a case whose answer is not 202 is sent again unchanged. */
  private async submitAll(cases: FaultCase[], caseIds: Map<string, string>): Promise<void> {
    const queue = [...cases];
    const submitNext = async (): Promise<void> => {
      for (let next = queue.shift(); next; next = queue.shift()) {
        caseIds.set(next.platformCaseId, await this.submitCase(next));
      }
    };
    await Promise.all(Array.from({ length: SUBMIT_CONCURRENCY }, submitNext));
  }

  /**
   * Submits one case until it is accepted. A 5xx, a lost connection or a nonce reported
   * as replayed may pass on a later attempt: the next attempt signs with a new nonce.
   */
  private async submitCase(faultCase: FaultCase): Promise<string> {
    let lastProblem = '';
    for (let attempt = 1; attempt <= SUBMIT_ATTEMPTS; attempt += 1) {
      let answer: Awaited<ReturnType<typeof submitMultipart>> | undefined;
      try {
        answer = await submitMultipart(this.env, faultCase.json, faultCase.materials);
      } catch (error) {
        lastProblem = error instanceof Error ? error.message : String(error);
      }
      if (answer?.status === 202) return (answer.body as { caseId: string }).caseId;
      if (answer) {
        const code = (answer.body as { code?: string }).code ?? '';
        lastProblem = `HTTP ${answer.status} ${code}`;
        if (answer.status < 500 && code !== 'LB_ERR_AUTH_REPLAYED') throw new Error(lastProblem);
        this.intakeRetries.push(lastProblem);
      }
      await pause(500 * attempt);
    }
    throw new Error(`case ${faultCase.platformCaseId} was not accepted: ${lastProblem}`);
  }

  /** Waits until department calls are running, then kills the worker without warning. */
  private async killWorkerMidCall(): Promise<{ activeJobsAtKill: number; killedAtMs: number }> {
    const veterans = this.env.departments.veterans;
    await waitUntil(
      async () => veterans.submissions.length >= 40 && (await this.activeDepartmentJobs()) > 0,
      120_000,
    );
    const activeJobsAtKill = await this.activeDepartmentJobs();
    await this.worker?.stop('SIGKILL');
    return { activeJobsAtKill, killedAtMs: Date.now() };
  }

  private async activeDepartmentJobs(): Promise<number> {
    let active = 0;
    for (const queue of this.env.gateway.queues.departments.values()) active += await queue.getActiveCount();
    return active;
  }

  /** Restarts Redis (SIGTERM, AOF kept) once a good share of the cases is in. */
  private async restartRedis(caseIds: Map<string, string>): Promise<number> {
    await waitUntil(() => caseIds.size >= CASE_COUNT / 2, 180_000);
    await this.redis.restart();
    return Date.now();
  }

  /** Takes hrss down while its items flow, for longer than the retry budget, keeping its other faults. */
  private async takeDepartmentDown(): Promise<ScenarioEvents['downtime']> {
    const simulator = this.env.departments[DOWN_DEPARTMENT];
    await waitUntil(() => simulator.submissions.length >= 60, 240_000);
    const fromMs = Date.now();
    simulator.setFaults({ ...FAULTS[DOWN_DEPARTMENT], seed: 909, downForMs: DOWNTIME_MS });
    return { department: DOWN_DEPARTMENT, fromMs, untilMs: fromMs + DOWNTIME_MS };
  }

  /**
   * Waits until no case is open, replaying dead letters as an operator would once the
   * department is back (the caller waits for that). Replayed items may meet new faults,
   * so the replay repeats.
   */
  private async settle(caseIds: Map<string, string>, tally: ReplayTally, startedAtMs: number): Promise<void> {
    const { store } = this.env.gateway;
    const deadline = startedAtMs + RUN_DEADLINE_MS;
    for (;;) {
      await replayDeadLetters(this.env.gateway, tally);
      const open = await store.activeCaseIds();
      if (open.length === 0 && caseIds.size === CASE_COUNT) return;
      if (Date.now() > deadline)
        throw new Error(`cases still open at the deadline: ${await this.describeOpen(open)}`);
      await pause(POLL_MS * 4);
    }
  }

  private async describeOpen(caseIds: string[]): Promise<string> {
    const counts: Record<string, number> = {};
    for (const caseId of caseIds) {
      for (const item of await this.env.gateway.store.getItems(caseId)) {
        counts[`${item.itemKey}=${item.state}`] = (counts[`${item.itemKey}=${item.state}`] ?? 0) + 1;
      }
    }
    return `${caseIds.length} cases; items ${JSON.stringify(counts)}`;
  }

  /** Reads every case as the platform does, through the API; a case it cannot find is listed apart. */
  private async readViews(
    caseIds: Map<string, string>,
  ): Promise<{ views: Map<string, CaseView>; missingCases: string[] }> {
    const views = new Map<string, CaseView>();
    const missingCases: string[] = [];
    for (const caseId of caseIds.values()) {
      const answer = await getSigned(this.env, `/v1/cases/${caseId}`);
      if (answer.status === 404) missingCases.push(caseId);
      else if (answer.status !== 200)
        throw new Error(`case ${caseId} read failed with HTTP ${answer.status}`);
      else views.set(caseId, answer.body as CaseView);
    }
    return { views, missingCases };
  }

  /** Waits until the platform simulator has every case's final status and downloaded every document. */
  private async waitForPlatform(views: Map<string, CaseView>, startedAtMs: number): Promise<void> {
    const { platform } = this.env;
    const deadline = Math.max(startedAtMs + RUN_DEADLINE_MS, Date.now() + 120_000);
    await waitUntil(
      () => [...views.values()].every((view) => platform.caseStatus(view.caseId) === view.status),
      deadline - Date.now(),
    );
    await platform.settled();
  }

  private traffic(): ScenarioResult['traffic'] {
    const traffic = {} as ScenarioResult['traffic'];
    for (const department of DEPARTMENTS) {
      const simulator = this.env.departments[department];
      traffic[department] = { requests: simulator.submitRequestCount, items: simulator.submissions.length };
    }
    return traffic;
  }

  private faultCounts(): Record<DepartmentKey, FaultCounts> {
    const counts = {} as Record<DepartmentKey, FaultCounts>;
    for (const department of DEPARTMENTS)
      counts[department] = { ...this.env.departments[department].faultCounts };
    return counts;
  }
}

function pause(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

async function waitUntil(condition: () => boolean | Promise<boolean>, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`fault suite: condition not met within ${timeoutMs} ms`);
    await pause(POLL_MS);
  }
}
