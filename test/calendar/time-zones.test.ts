import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { ADDITION_CASES, DUE_CASES, expectedWorkingDays } from './support/official-arrangements.ts';

const PROBE = fileURLToPath(new URL('./support/time-zone-probe.ts', import.meta.url));

interface ProbeOutput {
  timeZone: string;
  localMidnightOffsetMinutes: number;
  workingDays: Record<string, boolean>;
  additions: string[];
  dueTimes: Array<{ dueAt: string; provisional: boolean; missingYears: number[] }>;
  coverage: { missingYears: number[] };
}

/** Runs the probe in a fresh Node process whose TZ is `timeZone`. */
function runProbe(timeZone: string): ProbeOutput {
  const result = spawnSync(process.execPath, ['--import', 'tsx', PROBE], {
    env: { ...process.env, TZ: timeZone },
    encoding: 'utf8',
    timeout: 30_000,
  });
  if (result.status !== 0) throw new Error(`probe failed under TZ=${timeZone}: ${result.stderr}`);
  return JSON.parse(result.stdout) as ProbeOutput;
}

const ZONES = [
  // July in Los Angeles is UTC-7, so a local-time slip would move dates by a day.
  { timeZone: 'America/Los_Angeles', offsetMinutes: 420 },
  { timeZone: 'UTC', offsetMinutes: 0 },
];

describe.each(ZONES)('calendar under TZ=$timeZone', ({ timeZone, offsetMinutes }) => {
  const output = runProbe(timeZone);

  it('runs the probe in that time zone', () => {
    expect(output.timeZone).toBe(timeZone);
    expect(output.localMidnightOffsetMinutes).toBe(offsetMinutes);
  });

  it('matches the arrangements on every day', () => {
    for (const year of [2025, 2026] as const) {
      for (const [date, working] of expectedWorkingDays(year)) {
        expect(output.workingDays[date], date).toBe(working);
      }
    }
  });

  it('adds working days as worked out by hand', () => {
    expect(output.additions).toEqual(ADDITION_CASES.map((entry) => entry.expected));
  });

  it('computes due times as worked out by hand', () => {
    const expected = DUE_CASES.map(({ dueAt, provisional, missingYears }) => ({
      dueAt,
      provisional,
      missingYears,
    }));
    expect(
      output.dueTimes.map(({ dueAt, provisional, missingYears }) => ({ dueAt, provisional, missingYears })),
    ).toEqual(expected);
  });

  it('requires 2027 from Shanghai midnight of 1 December', () => {
    expect(output.coverage.missingYears).toEqual([2027]);
  });
});
