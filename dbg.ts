import { startTestRedis } from './test/support/redis.ts';
import { startResilienceEnvironment, submitTypicalCase } from './test/resilience/resilience-env.ts';
import { waitForCase } from './test/support/gateway-env.ts';
import { createLogger } from './src/observability/logger.ts';
for (let round = 0; round < 3; round++) {
  const redis = await startTestRedis();
  const env = await startResilienceEnvironment({ redisUrl: redis.url, logger: createLogger({ level: 'silent' }) });
  const gw: any = env.gateway;
  const first = await submitTypicalCase(env);
  await waitForCase(env, first, 60000);
  await redis.restart();
  await new Promise((r) => setTimeout(r, 3000));
  const second = await submitTypicalCase(env);
  await waitForCase(env, second, 90000);
  const t = Date.now();
  // time each step
  const orig = gw.close;
  const timer = setInterval(() => console.log('still closing', Date.now() - t), 5000);
  await env.close();
  clearInterval(timer);
  console.log('round', round, 'close took', Date.now() - t);
  await redis.stop();
}
process.exit(0);
