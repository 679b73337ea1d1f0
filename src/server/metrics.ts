/**
 * The server's Prometheus metrics (prom-client), in a registry of its own per app so that two apps in
 * one process (tests) never share counters. Labels are bounded: routes are their patterns, never the
 * concrete URL; reasons are `kind:outcome` pairs.
 */
import { Counter, Histogram, Registry, collectDefaultMetrics } from 'prom-client';
import type { Decision } from '../domain/model.js';
import type { ValidationResult } from '../domain/model.js';
import { VALIDATORS } from '../validators/registry.js';

export interface ServerMetrics {
  readonly registry: Registry;
  /** One answered request. `route` is the matched pattern (`/api/releases/:ref`) or `unmatched`. */
  request(method: string, route: string, status: number, seconds: number): void;
  /** A promotion; `breakGlass` when it went past its gates on a break-glass sign-off (counted apart). */
  promoted(stage: string, breakGlass?: boolean): void;
  /** A refused promotion: one count per unmet requirement's `kind:outcome` (`signoff:missing`). */
  blocked(decision: Decision): void;
  validations(results: readonly ValidationResult[]): void;
  /** One webhook delivery try: delivered, to be retried, or failed for good. */
  webhook(outcome: 'delivered' | 'retry' | 'failed'): void;
  text(): Promise<string>;
  readonly contentType: string;
}

export function createServerMetrics(opts: { process?: boolean } = {}): ServerMetrics {
  const registry = new Registry();
  if (opts.process) collectDefaultMetrics({ register: registry, prefix: 'tollgate_' });
  const requests = new Counter({
    name: 'tollgate_http_requests_total',
    help: 'HTTP requests answered, by method, route pattern and status code',
    labelNames: ['method', 'route', 'status'] as const,
    registers: [registry],
  });
  const duration = new Histogram({
    name: 'tollgate_http_request_duration_seconds',
    help: 'Time to answer an HTTP request, by method and route pattern',
    labelNames: ['method', 'route'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers: [registry],
  });
  const promotions = new Counter({
    name: 'tollgate_promotions_total',
    help: 'Promotion requests, by stage and outcome (promoted, break-glass or blocked)',
    labelNames: ['stage', 'outcome'] as const,
    registers: [registry],
  });
  const blockedReasons = new Counter({
    name: 'tollgate_promotions_blocked_reasons_total',
    help: 'Unmet requirements of refused promotions, by stage and reason (requirement kind:outcome)',
    labelNames: ['stage', 'reason'] as const,
    registers: [registry],
  });
  const validationOutcomes = new Counter({
    name: 'tollgate_validation_results_total',
    help: 'Validation results recorded, by validator and outcome (passed, failed, errored)',
    labelNames: ['validator', 'outcome'] as const,
    registers: [registry],
  });
  const webhookTries = new Counter({
    name: 'tollgate_webhook_deliveries_total',
    help: 'Webhook delivery tries, by outcome (delivered, retry, failed)',
    labelNames: ['outcome'] as const,
    registers: [registry],
  });

  return {
    registry,
    contentType: registry.contentType,
    request(method, route, status, seconds) {
      requests.inc({ method, route, status: String(status) });
      duration.observe({ method, route }, seconds);
    },
    promoted(stage, breakGlass = false) {
      promotions.inc({ stage, outcome: breakGlass ? 'break-glass' : 'promoted' });
    },
    blocked(decision) {
      promotions.inc({ stage: decision.stage, outcome: 'blocked' });
      for (const g of decision.gates) {
        for (const r of g.requirements) {
          if (r.outcome !== 'satisfied' && r.outcome !== 'waived') blockedReasons.inc({ stage: decision.stage, reason: `${r.kind}:${r.outcome}` });
        }
      }
    },
    validations(results) {
      // The validator's name is the client's word: only built-in names become label values.
      for (const r of results) validationOutcomes.inc({ validator: VALIDATORS.has(r.validator) ? r.validator : 'other', outcome: r.status });
    },
    webhook(outcome) {
      webhookTries.inc({ outcome });
    },
    text: () => registry.metrics(),
  };
}
