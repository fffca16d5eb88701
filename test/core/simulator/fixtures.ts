import { App, Duration, Stack } from 'aws-cdk-lib';
import { LambdaDeploymentConfig } from 'aws-cdk-lib/aws-codedeploy';
import { IConstruct } from 'constructs';
import { CircuitBreakerOptions, HealthCheck, InconclusiveAction, RollbackTarget, RollbackTrigger, ServiceLevelObjective, Sli, TriggerMode } from '../../../lib';
import { POLICY_SCHEMA_VERSION, RollbackPolicy, policyFromEntries } from '../../../lib/core';
import type { MinuteCounts, SeriesEntry } from '../../../lib/core/simulator';
import { lambdaCanaryGroup } from '../../helpers';

/**
 * The policy of every SLO and rollback trigger under `scope`, collected from the constructs'
 * `_policy` fields as `RollbackPlan.of` does, then grouped by `policyFromEntries`.
 */
export function policyOf(scope: IConstruct): RollbackPolicy {
  const entries = scope.node
    .findAll()
    .flatMap((c) => (ServiceLevelObjective.isServiceLevelObjective(c) || c instanceof RollbackTrigger ? [c._policy] : []))
    .map((entry) => ({ schemaVersion: POLICY_SCHEMA_VERSION, entry }));
  return policyFromEntries(entries, Stack.of(scope).stackName);
}

export interface LambdaServiceOptions {
  readonly inconclusiveAction?: InconclusiveAction;
  readonly bakeMinutes?: number;
  readonly suspendAlarmPath?: boolean;
  readonly mode?: TriggerMode;
  /** Add a 99 % latency SLO (Lambda Duration over 500 ms) to the trigger's objectives. */
  readonly latency?: boolean;
  /** The trigger's health checks (HealthCheck.synthetics, HealthCheck.http). */
  readonly healthChecks?: HealthCheck[];
  /** The trigger's circuit breaker (its approval gate comes with it). */
  readonly circuitBreaker?: CircuitBreakerOptions;
  /** The trigger's guard window after a release succeeds. */
  readonly guardWindow?: Duration;
}

/**
 * A real Lambda service synthesized in a fresh stack: a 99.9 % availability SLO on the alias
 * (workbook tiers) and a RollbackTrigger guarding its CodeDeploy deployment group.
 */
export function lambdaService(options: LambdaServiceOptions = {}) {
  const key = JSON.stringify(options);
  let service = services.get(key);
  if (!service) {
    service = synthesizeService(options);
    services.set(key, service);
  }
  return service;
}

const services = new Map<string, ReturnType<typeof synthesizeService>>();

function synthesizeService(options: LambdaServiceOptions) {
  const stack = new Stack(new App(), 'Svc');
  const shadow = options.mode === TriggerMode.SHADOW;
  const { alias, group } = lambdaCanaryGroup(stack, {
    deploymentConfig: LambdaDeploymentConfig.CANARY_10PERCENT_10MINUTES,
    // Shadow mode attaches no alarm: aws-cdk-lib refuses deploymentInAlarm on a group without one.
    ...(shadow ? { autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: false } } : {}),
  });
  const slo = new ServiceLevelObjective(stack, 'Availability', { sli: Sli.lambdaAvailability(alias), objectivePercent: 99.9 });
  const objectives = [slo];
  if (options.latency) {
    objectives.push(new ServiceLevelObjective(stack, 'Latency', { sli: Sli.lambdaLatency(alias, Duration.millis(500)), objectivePercent: 99 }));
  }
  const trigger = new RollbackTrigger(stack, 'Rollback', {
    target: RollbackTarget.lambdaAlias({ deploymentGroup: group, alias }),
    objectives,
    inconclusiveAction: options.inconclusiveAction,
    bake: options.bakeMinutes === undefined ? undefined : Duration.minutes(options.bakeMinutes),
    suspendAlarmPath: options.suspendAlarmPath,
    mode: options.mode,
    healthChecks: options.healthChecks,
    circuitBreaker: options.circuitBreaker,
    guardWindow: options.guardWindow,
  });
  return { stack, slo, trigger, policy: policyOf(stack) };
}

/** Ids of the alarms the simulator reports, for a service built by {@link lambdaService}. */
export const IDS = {
  rollback: 'Svc/Rollback/Availability/version/page-1h',
  latencyRollback: 'Svc/Rollback/Latency/version/page-1h',
  page: 'Svc/Availability/page',
  page1h: 'Svc/Availability/page-1h',
  page1hLong: 'Svc/Availability/page-1h/long',
  page1hShort: 'Svc/Availability/page-1h/short',
} as const;

export type Split = (minute: number) => { stable?: MinuteCounts; canary?: MinuteCounts } | undefined;

/**
 * Minutes `from` … `to` of a service at `requests` a minute. `split(minute)` gives the per-version
 * entries (omit them for blended-only series); the blended entry is their sum, or
 * `blended(minute)` when there is no split.
 */
export function buildSeries(from: number, to: number, perMinute: (minute: number) => { blended?: MinuteCounts; stable?: MinuteCounts; canary?: MinuteCounts }): SeriesEntry[] {
  const out: SeriesEntry[] = [];
  for (let m = from; m <= to; m++) {
    const { blended, stable, canary } = perMinute(m);
    const withSlow = stable?.slow !== undefined || canary?.slow !== undefined;
    const sum: MinuteCounts = blended ?? {
      requests: (stable?.requests ?? 0) + (canary?.requests ?? 0),
      errors: (stable?.errors ?? 0) + (canary?.errors ?? 0),
      ...(withSlow ? { slow: (stable?.slow ?? 0) + (canary?.slow ?? 0) } : {}),
    };
    out.push({ minute: m, ...sum, ...(stable ? { stable } : {}), ...(canary ? { canary } : {}) });
  }
  return out;
}

/**
 * A 10 % canary for 10 minutes of a service at `perMinute` (1,000) requests a minute, released at
 * minute 0 after 400 minutes of history (so the 6 h page window is full), then all traffic on the
 * new version, until minute `until` (40). `canaryErrors(minute, requests)` and
 * `stableErrors(minute, requests)` give each version's failed requests (default none).
 */
export function canaryRelease(opts: {
  canaryErrors: (minute: number, requests: number) => number;
  stableErrors?: (minute: number, requests: number) => number;
  until?: number;
  perMinute?: number;
}): SeriesEntry[] {
  const total = opts.perMinute ?? 1_000;
  const stableErrors = opts.stableErrors ?? (() => 0);
  return buildSeries(-400, opts.until ?? 40, (m) => {
    if (m < 0) return { stable: { requests: total, errors: stableErrors(m, total) } };
    const canaryShare = m < 10 ? 0.1 : 1;
    const canaryRequests = Math.round(total * canaryShare);
    const stableRequests = total - canaryRequests;
    return {
      stable: { requests: stableRequests, errors: stableErrors(m, stableRequests) },
      canary: { requests: canaryRequests, errors: opts.canaryErrors(m, canaryRequests) },
    };
  });
}

/** The same series with the per-version entries dropped (what a blended CloudWatch export holds). */
export function blendedOnly(series: readonly SeriesEntry[]): SeriesEntry[] {
  return series.map(({ minute, requests, errors, slow }) => ({ minute, requests, errors, ...(slow !== undefined ? { slow } : {}) }));
}

export const CANARY_10_FOR_10 = { kind: 'canary', percent: 10, intervalMinutes: 10, bakeMinutes: 10 } as const;
