/**
 * Operator authentication for the admin API: a bearer token from
 * `LIANBAN_OPERATOR_TOKENS` (`operatorName:token,…`). The operator's name is recorded
 * in the case trail for every action taken through the admin API.
 */
import type { FastifyRequest } from 'fastify';
import { timingSafeEqual } from 'node:crypto';
import { GatewayError } from './errors.ts';

function tokensEqual(expected: string, actual: string): boolean {
  const left = Buffer.from(expected);
  const right = Buffer.from(actual);
  return left.length === right.length && timingSafeEqual(left, right);
}

/** Returns a preHandler that admits a request only with a known operator token. */
export function operatorGuard(tokens: ReadonlyMap<string, string>) {
  return async (request: FastifyRequest): Promise<void> => {
    const header = request.headers.authorization ?? '';
    const token = header.startsWith('Bearer ') ? header.slice('Bearer '.length) : '';
    for (const [operator, expected] of tokens) {
      if (token && tokensEqual(expected, token)) {
        (request as FastifyRequest & { operator?: string }).operator = operator;
        return;
      }
    }
    throw new GatewayError('LB_ERR_AUTH_OPERATOR');
  };
}

/** Returns the operator admitted by `operatorGuard`. */
export function operatorOf(request: FastifyRequest): string {
  return (request as FastifyRequest & { operator?: string }).operator ?? 'unknown';
}
