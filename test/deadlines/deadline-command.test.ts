/** `lianban deadlines` argument handling; the listing itself is tested against a running gateway. */
import { describe, expect, it } from 'vitest';
import { runDeadlineCommand, type DeadlineCommandIo } from '../../src/cli/deadline-commands.ts';
import { freePort } from '../support/redis.ts';

function capture(redisUrl = 'redis://127.0.0.1:1'): { io: DeadlineCommandIo; out: string[]; err: string[] } {
  const out: string[] = [];
  const err: string[] = [];
  return { io: { out: (line) => out.push(line), err: (line) => err.push(line), redisUrl }, out, err };
}

describe('deadlines command', () => {
  it('rejects an unknown state', async () => {
    const run = capture();

    expect(await runDeadlineCommand(['list', '--state', 'late'], run.io)).toBe(2);
    expect(run.err[0]).toBe('invalid --state "late": expected at-risk or overdue');
  });

  it('rejects an unknown option', async () => {
    const run = capture();

    expect(await runDeadlineCommand(['list', '--days', '3'], run.io)).toBe(2);
    expect(run.err[0]).toContain("Unknown option '--days'");
  });

  it('rejects an unknown subcommand', async () => {
    const run = capture();

    expect(await runDeadlineCommand(['sweep'], run.io)).toBe(2);
    expect(run.err[0]).toBe('unknown subcommand "sweep": expected list');
  });

  it('prints usage on help', async () => {
    const run = capture();

    expect(await runDeadlineCommand(['help'], run.io)).toBe(0);
    expect(run.out[0]).toContain('usage: lianban deadlines list');
  });

  it('fails when Redis is unreachable', async () => {
    // A free port has no listener, so the connection is refused at once.
    const run = capture(`redis://127.0.0.1:${await freePort()}`);

    expect(await runDeadlineCommand(['list'], run.io)).toBe(1);
    expect(run.err[0]).toMatch(/^cannot connect to Redis: /);
  });
});
