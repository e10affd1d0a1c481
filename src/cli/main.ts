/**
 * The `lianban` command: selects the process role (api, worker, all), runs the demo, or
 * runs an operator command.
 */
import { runCalendarCommand } from './calendar-command.ts';
import { runBreakersCommand, runDeadLettersCommand } from './operator-commands.ts';
import { runDeadlineCommand } from './deadline-commands.ts';
import { ConfigError, developmentDefaultsInUse, loadConfig } from '../config.ts';
import { runDemo } from '../demo/run-demo.ts';
import { startGateway, type Role } from '../gateway.ts';
import { RedisUnavailableError } from '../support/private-redis.ts';

const USAGE = `usage: lianban <command>

  api        run the HTTP API (intake, callbacks, status, documents, metrics)
  worker     run the department workers, callback applier, poller and platform notifier
  all        run both in one process
  demo       run the typical case end to end against simulators and show its progress
  calendar   working-day calendar: check | due <received-at> <working-days> | validate <file> | activate <file>
  deadletters  dead letters through the admin API: list | replay | jobs | retry-jobs (see docs/operations.md)
  breakers   department circuit breaker states through the admin API
  deadlines  items at risk or overdue: list [--state at-risk|overdue] [--department <key>] [--json]

Configuration comes from environment variables; see the README.`;

/** Time a graceful shutdown may take before the process exits anyway (Redis may be down). */
const SHUTDOWN_TIMEOUT_MS = 15_000;

async function runRole(role: Role): Promise<number> {
  const config = loadConfig();
  const gateway = await startGateway(config, role);
  const defaulted = developmentDefaultsInUse();
  if (config.mode === 'development' && defaulted.length > 0) {
    gateway.logger.warn(
      { variables: defaulted },
      'development defaults in use: department and platform calls will fail until these are set',
    );
  }
  const stop = async (signal: string): Promise<void> => {
    gateway.logger.info({ signal, timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'shutting down');
    const timer = setTimeout(() => {
      // Active jobs keep their BullMQ locks until they expire, so another worker takes them over.
      gateway.logger.error({ signal, timeoutMs: SHUTDOWN_TIMEOUT_MS }, 'shutdown timed out; exiting');
      process.exit(1);
    }, SHUTDOWN_TIMEOUT_MS);
    timer.unref();
    await gateway.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void stop('SIGINT'));
  process.once('SIGTERM', () => void stop('SIGTERM'));
  return new Promise<number>(() => undefined);
}

async function main(args: string[]): Promise<number> {
  const [command, ...rest] = args;
  switch (command) {
    case 'api':
    case 'worker':
    case 'all':
      return runRole(command);
    case 'demo':
      return runDemo();
    case 'calendar':
      return runCalendarCommand(rest, {
        out: (line) => console.log(line),
        err: (line) => console.error(line),
        // Without REDIS_URL the commands read only the contract files, never a default Redis.
        redisUrl: process.env.REDIS_URL,
        keyPrefix: process.env.LIANBAN_KEY_PREFIX ?? 'lb',
      });
    case 'deadlines': {
      const config = loadConfig();
      return runDeadlineCommand(rest, {
        out: (line) => console.log(line),
        err: (line) => console.error(line),
        redisUrl: config.redisUrl,
        keyPrefix: config.keyPrefix,
        atRiskWorkingDays: config.deadlineAtRiskWorkingDays,
      });
    }
    case 'deadletters':
      return runDeadLettersCommand(rest, operatorIo());
    case 'breakers':
      return runBreakersCommand(rest, operatorIo());
    default:
      console.error(command ? `unknown command "${command}"\n\n${USAGE}` : USAGE);
      return 2;
  }
}

function operatorIo() {
  return {
    out: (line: string) => console.log(line),
    err: (line: string) => console.error(line),
    env: process.env,
  };
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof ConfigError || error instanceof RedisUnavailableError) {
      console.error(`lianban: ${error.message}`);
      process.exit(2);
    }
    console.error(error);
    process.exit(1);
  },
);
