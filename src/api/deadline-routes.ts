/**
 * Admin route listing unfinished items that are at risk or overdue:
 * GET /v1/admin/deadlines?state=at-risk|overdue&department=<key>. Registered inside the
 * admin scope, so the operator guard applies.
 */
import type { FastifyInstance } from 'fastify';
import { GatewayError } from './errors.ts';
import { DEPARTMENTS, type DepartmentKey } from '../adapters-kit/types.ts';
import {
  LISTED_DEADLINE_STATES,
  parseDeadlineState,
  type DeadlineListFilter,
  type DeadlineListing,
} from '../deadlines/deadline-list.ts';

export interface DeadlineRouteDeps {
  list(filter: DeadlineListFilter): Promise<DeadlineListing>;
}

interface DeadlineQuery {
  state?: string;
  department?: string;
}

export function registerDeadlineRoutes(app: FastifyInstance, deps: DeadlineRouteDeps): void {
  app.get<{ Querystring: DeadlineQuery }>('/v1/admin/deadlines', async (request) => {
    const { state: stateText, department } = request.query;
    const state = parseDeadlineState(stateText);
    if (state === null) {
      throw new GatewayError('LB_ERR_REQUEST_INVALID_QUERY', [
        {
          code: 'LB_ERR_REQUEST_INVALID_QUERY',
          pointer: '/state',
          message: `state 应为 ${LISTED_DEADLINE_STATES.join(' 或 ')}，收到 "${String(stateText)}"。`,
        },
      ]);
    }

    const filter: DeadlineListFilter = {};
    if (state) filter.state = state;
    if (department !== undefined && !DEPARTMENTS.includes(department as DepartmentKey)) {
      throw new GatewayError('LB_ERR_REQUEST_INVALID_QUERY', [
        {
          code: 'LB_ERR_REQUEST_INVALID_QUERY',
          pointer: '/department',
          message: `department 应为 ${DEPARTMENTS.join('、')} 之一，收到 "${department}"。`,
        },
      ]);
    }
    if (department) filter.department = department;
    const listing = await deps.list(filter);
    return { ...listing, count: listing.items.length };
  });
}
