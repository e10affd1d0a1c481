/**
 * The fault suite: 200 cases of the veteran services bundle go through the gateway. The
 * department simulators fail one submit in five with an error, a timeout, a reset or a
 * broken body, and send every callback twice and a quarter of them early. Meanwhile a
 * worker process is killed by SIGKILL during department calls, Redis restarts, and hrss
 * is down for longer than its retry budget before its dead letters are replayed.
 *
 * It takes minutes, so `npm test` skips it and `npm run test:faults` runs it.
 */
import { readFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { FaultKind } from '../../src/adapters-kit/faults.ts';
import { DEPARTMENTS } from '../../src/adapters-kit/types.ts';
import { loadBundle } from '../../src/bundle/bundle.ts';
import { CASE_COUNT, DOWN_DEPARTMENT, FaultScenario, type ScenarioResult } from './fault-suite/scenario.ts';

const RUN = process.env.LIANBAN_FAULT_SUITE === '1';
const SCENARIO_TIMEOUT_MS = 20 * 60_000;

/** Personal data of the fictional cases; none of it may reach a log line. */
const PERSONAL_VALUES = [
  '测试退役甲',
  '测试拒办甲',
  '500106200003151233',
  '测试户主乙',
  '500103197206082342',
  '6217000000000000004',
  '13800000000',
  '重庆市沙坪坝区测试路1号',
];

const bundle = loadBundle();

describe.skipIf(!RUN)('fault suite', () => {
  const scenario = new FaultScenario();
  let result: ScenarioResult;

  beforeAll(async () => {
    await scenario.start();
    result = await scenario.run();
    const seconds = (ms: number): string => `${(ms / 1000).toFixed(1)} s`;
    console.info(
      `fault suite: ${CASE_COUNT} cases in ${seconds(result.durationsMs.total)} ` +
        `(submitting ${seconds(result.durationsMs.submit)}, settling ${seconds(result.durationsMs.settle)}); ` +
        `dead letters before replay ${JSON.stringify(result.events.deadLettersBeforeReplay)}; ` +
        `replayed ${JSON.stringify(result.replayed)}; department traffic ${JSON.stringify(result.traffic)}; submissions sent again ${JSON.stringify(result.intakeRetries)}; ` +
        `faults ${JSON.stringify(result.faultCounts)}`,
    );
  }, SCENARIO_TIMEOUT_MS);

  afterAll(async () => {
    await scenario.close();
  }, 120_000);

  it('accepts every case under its own platform case id', () => {
    expect(result.caseIds.size).toBe(CASE_COUNT);
    expect(new Set(result.caseIds.values()).size).toBe(CASE_COUNT);
  });

  it('stores every case it accepted', () => {
    expect(result.missingCases).toEqual([]);
  });

  it('finishes every case with its expected status', () => {
    for (const faultCase of storedCases(result)) {
      const view = result.views.get(result.caseIds.get(faultCase.platformCaseId) ?? '');
      expect(view?.status, `${faultCase.platformCaseId} (${faultCase.variant})`).toBe(
        faultCase.expectedStatus,
      );
    }
  });

  it('ends every item in its expected state', () => {
    for (const faultCase of storedCases(result)) {
      const view = result.views.get(result.caseIds.get(faultCase.platformCaseId) ?? '');
      const states = Object.fromEntries((view?.items ?? []).map((item) => [item.itemKey, item.status]));
      expect(states, `${faultCase.platformCaseId} (${faultCase.variant})`).toEqual(faultCase.expectedItems);
    }
  });

  it('carries out each item once at its department', () => {
    for (const department of DEPARTMENTS) {
      const simulator = scenario.env.departments[department];
      const references = simulator.submissions.map((submission) => submission.reference);
      const expected = expectedReferences(result, department);

      expect(references.length, `${department}: one submission per item`).toBe(new Set(references).size);
      expect(new Set(references), `${department}: the items sent`).toEqual(expected);
      const effects = [...simulator.effectsByKey.values()];
      expect(effects.length, `${department}: one key per item`).toBe(expected.size);
      expect(
        effects.every((count) => count === 1),
        `${department}: one effect per key`,
      ).toBe(true);
    }
  });

  it('sent repeated submits that the departments recognised', () => {
    const repeats = DEPARTMENTS.map(
      (department) => result.traffic[department].requests - result.traffic[department].items,
    );
    expect(repeats.every((count) => count >= 0)).toBe(true);
    expect(repeats.reduce((sum, count) => sum + count, 0)).toBeGreaterThan(0);
  });

  it('delivers every final state to the platform', () => {
    const { platform } = scenario.env;
    for (const view of result.views.values()) {
      expect(platform.caseStatus(view.caseId), view.caseId).toBe(view.status);
      const pushed = platform.itemStates(view.caseId);
      for (const item of view.items) {
        expect(pushed.get(item.itemKey)?.status, `${view.caseId}.${item.itemKey}`).toBe(item.status);
      }
    }
    expect(platform.rejectedSignatures).toBe(0);
  });

  it('delivers each result document the platform is owed', () => {
    const { platform } = scenario.env;
    for (const view of result.views.values()) {
      for (const item of view.items) {
        for (const document of item.documents) {
          const received = platform.documents.find(
            (entry) => entry.caseId === view.caseId && entry.declaredSha256 === document.sha256,
          );
          expect(received?.sha256, `${view.caseId}.${item.itemKey} ${document.kind}`).toBe(document.sha256);
        }
      }
    }
  });

  it('dead-letters the items of the department that was down', () => {
    expect(result.events.deadLettersBeforeReplay[DOWN_DEPARTMENT] ?? 0).toBeGreaterThan(0);
    expect(result.replayed.items[DOWN_DEPARTMENT] ?? 0).toBeGreaterThan(0);
  });

  it('leaves no dead letter after replay', () => {
    expect(result.remainingAfterReplay).toEqual({});
  });

  it('killed the worker during department calls', () => {
    expect(result.events.activeJobsAtKill).toBeGreaterThan(0);
    expect(result.events.killedAtMs).toBeLessThan(result.events.redisRestartedAtMs);
  });

  it('injected every kind of fault', () => {
    const kinds: FaultKind[] = [
      'error',
      'timeout',
      'reset',
      'malformed',
      'downtime',
      'early-result',
      'duplicate-callback',
    ];
    for (const kind of kinds) {
      const total = DEPARTMENTS.reduce((sum, department) => sum + result.faultCounts[department][kind], 0);
      expect(total, kind).toBeGreaterThan(0);
    }
  });

  it('keeps personal data out of every log', () => {
    for (const file of result.logFiles) {
      const log = readFileSync(file, 'utf8');
      expect(log.length, file).toBeGreaterThan(0);
      for (const value of PERSONAL_VALUES) {
        // The offending lines are shown with the value masked, so a failure can be traced.
        const lines = log
          .split('\n')
          .filter((line) => line.includes(value))
          .map((line) => line.replaceAll(value, '<personal value>').slice(0, 400));
        expect(lines, `${value.slice(0, 2)}… in ${file}`).toEqual([]);
      }
    }
  });
});

/** Cases the gateway can find; the ones it lost are reported by their own test. */
function storedCases(result: ScenarioResult): ScenarioResult['cases'] {
  return result.cases.filter((faultCase) =>
    result.views.has(result.caseIds.get(faultCase.platformCaseId) ?? ''),
  );
}

/** References of the items that must have reached `department`: those it completed or refused. */
function expectedReferences(result: ScenarioResult, department: string): Set<string> {
  const references = new Set<string>();
  for (const faultCase of storedCases(result)) {
    const caseId = result.caseIds.get(faultCase.platformCaseId);
    for (const [itemKey, state] of Object.entries(faultCase.expectedItems)) {
      if (bundle.item(itemKey).department !== department) continue;
      if (state === 'completed' || state === 'rejected') references.add(`${caseId}.${itemKey}`);
    }
  }
  return references;
}
