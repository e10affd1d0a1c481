/**
 * The `lianban` command: selects the process role (api, worker, all), runs the demo, or
 * runs an operator command.
 */
import { runCalendarCommand } from './calendar-command.ts';
import { ConfigError, loadConfig } from '../config.ts';
import { runDemo } from '../demo/run-demo.ts';
import { startGateway, type Role } from '../gateway.ts';
import { RedisUnavailableError } from '../support/private-redis.ts';

const USAGE = `usage: lianban <command>

  api        run the HTTP API (intake, callbacks, status, documents, metrics)
  worker     run the department workers, callback applier, poller and platform notifier
  all        run both in one process
  demo       run the typical case end to end against simulators and show its progress
  calendar   working-day calendar: check | due <received-at> <working-days> | validate <file> | activate <file>

Configuration comes from environment variables; see the README.`;

async function runRole(role: Role): Promise<number> {
  const gateway = await startGateway(loadConfig(), role);
  const stop = async (signal: string): Promise<void> => {
    gateway.logger.info({ signal }, 'shutting down');
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
        redisUrl: process.env.REDIS_URL ?? 'redis://127.0.0.1:6379',
        keyPrefix: process.env.LIANBAN_KEY_PREFIX ?? 'lb',
      });
    default:
      console.error(command ? `unknown command "${command}"\n\n${USAGE}` : USAGE);
      return 2;
  }
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
