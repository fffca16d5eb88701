import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Duration, Stack } from 'aws-cdk-lib';
import { Metric, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import { ILambdaDeploymentConfig, LambdaDeploymentConfig, LambdaDeploymentGroup } from 'aws-cdk-lib/aws-codedeploy';
import { Alias, Code, Function, Runtime } from 'aws-cdk-lib/aws-lambda';
import { IConstruct } from 'constructs';
import { POLICY_SCHEMA_VERSION, RollbackPolicy, policyFromEntries } from '../lib/core';
import { RollbackTarget } from '../lib/rollback/rollback-target';
import { RollbackTrigger } from '../lib/rollback/rollback-trigger';
import { ServiceLevelObjective } from '../lib/slo/service-level-objective';
import { Sli } from '../lib/slo/sli';
import { ThresholdTrigger } from '../lib/trigger/threshold-trigger';

/**
 * The rollback policies the eval replays, built from the real constructs exactly as a user would
 * write them (a Lambda alias released by CodeDeploy, a 99.9 % availability SLO, a RollbackTrigger
 * with the default 10-minute bake), so the eval measures the defaults users get.
 *
 * The RollbackTrigger needs the bundled handlers (`npm run bundle` → assets/handlers).
 */

/** Availability objective of every policy: "three nines". */
export const AVAILABILITY_OBJECTIVE_PERCENT = 99.9;
/** Latency objective: 99 % of invocations faster than {@link LATENCY_THRESHOLD_MS}. */
export const LATENCY_OBJECTIVE_PERCENT = 99;
export const LATENCY_THRESHOLD_MS = 500;
export const BAKE_MINUTES = 10;

export type PolicyName =
  /** Lambda alias, per-version availability SLO (Sli.lambdaAvailability(alias)), canary 10 % 5 min. */
  | 'availability-canary5'
  /** Same SLO, canary 10 % for 10 minutes. */
  | 'availability-canary10'
  /** Same SLO, all at once. */
  | 'availability-all-at-once'
  /** Same SLO, all at once, baked 20 minutes (a team that expects regressions after warm-up). */
  | 'availability-all-at-once-bake20'
  /** Same SLO, linear: 10 % more traffic every 3 minutes (all of it after 27 minutes). */
  | 'availability-linear10-every3'
  /** Availability and latency (Sli.lambdaLatency(alias, 500 ms) at 99 %), canary 10 % 5 min. */
  | 'availability-latency-canary5'
  /**
   * The SLI a user builds from their own service-wide metrics (Sli.errorRatio on custom metrics):
   * no per-version view, so the rollback alarm watches blended traffic ('declared' scope).
   */
  | 'blended-sli-canary10';

interface PolicySpec {
  readonly config: ILambdaDeploymentConfig;
  readonly latency?: boolean;
  readonly blendedSli?: boolean;
  /** @default BAKE_MINUTES */
  readonly bakeMinutes?: number;
}

const SPECS: Record<PolicyName, PolicySpec> = {
  'availability-canary5': { config: LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES },
  'availability-canary10': { config: LambdaDeploymentConfig.CANARY_10PERCENT_10MINUTES },
  'availability-all-at-once': { config: LambdaDeploymentConfig.ALL_AT_ONCE },
  'availability-all-at-once-bake20': { config: LambdaDeploymentConfig.ALL_AT_ONCE, bakeMinutes: 20 },
  'availability-linear10-every3': { config: LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_3MINUTES },
  'availability-latency-canary5': { config: LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES, latency: true },
  'blended-sli-canary10': { config: LambdaDeploymentConfig.CANARY_10PERCENT_10MINUTES, blendedSli: true },
};

export const POLICY_NAMES = Object.keys(SPECS) as PolicyName[];

/** The policy of every SLO and trigger under `scope`, as `RollbackPlan.of` collects it. */
export function policyOf(scope: IConstruct, stack?: string): RollbackPolicy {
  const entries = scope.node
    .findAll()
    .flatMap((c) =>
      ServiceLevelObjective.isServiceLevelObjective(c) || c instanceof ThresholdTrigger || c instanceof RollbackTrigger ? [c._policy] : [],
    )
    .map((entry) => ({ schemaVersion: POLICY_SCHEMA_VERSION, entry }));
  return policyFromEntries(entries, stack);
}

/**
 * Synthesizes one eval stack (so the library's synth-time validation runs) and returns its policy.
 * aws-cdk-lib's built-in CloudFormation template linter is off: the eval reads the policy, not the
 * template (the build and construct tests lint that), and the linter's engine takes ~4 s to start.
 */
export function synthesizePolicy(name: PolicyName): RollbackPolicy {
  const spec = SPECS[name];
  const outdir = mkdtempSync(join(tmpdir(), 'rt-eval-'));
  try {
    const app = new App({ outdir, builtinCloudFormationValidation: false });
    const stack = new Stack(app, 'Eval');
    const fn = new Function(stack, 'Fn', {
      runtime: Runtime.NODEJS_24_X,
      handler: 'index.handler',
      code: Code.fromInline('exports.handler = async () => 1;'),
    });
    const alias = new Alias(stack, 'Live', { aliasName: 'live', version: fn.currentVersion });
    const group = new LambdaDeploymentGroup(stack, 'Group', {
      alias,
      deploymentConfig: spec.config,
      autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    });
    const objectives: ServiceLevelObjective[] = [];
    if (spec.blendedSli) {
      const count = (metricName: string) => new Metric({ namespace: 'Shop', metricName, statistic: Stats.SUM });
      objectives.push(
        new ServiceLevelObjective(stack, 'Availability', {
          sli: Sli.errorRatio({ badEvents: count('Failed'), totalEvents: count('Requests') }),
          objectivePercent: AVAILABILITY_OBJECTIVE_PERCENT,
        }),
      );
    } else {
      objectives.push(new ServiceLevelObjective(stack, 'Availability', { sli: Sli.lambdaAvailability(alias), objectivePercent: AVAILABILITY_OBJECTIVE_PERCENT }));
    }
    if (spec.latency) {
      objectives.push(
        new ServiceLevelObjective(stack, 'Latency', {
          sli: Sli.lambdaLatency(alias, Duration.millis(LATENCY_THRESHOLD_MS)),
          objectivePercent: LATENCY_OBJECTIVE_PERCENT,
        }),
      );
    }
    new RollbackTrigger(stack, 'Rollback', {
      target: RollbackTarget.lambdaAlias({ deploymentGroup: group, alias }),
      objectives,
      bake: Duration.minutes(spec.bakeMinutes ?? BAKE_MINUTES),
    });
    app.synth();
    return policyOf(stack, stack.stackName);
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

const cache = new Map<PolicyName, RollbackPolicy>();

/** {@link synthesizePolicy}, once per name per process (synthesis takes about a second). */
export function policy(name: PolicyName): RollbackPolicy {
  let p = cache.get(name);
  if (!p) {
    p = synthesizePolicy(name);
    cache.set(name, p);
  }
  return p;
}
