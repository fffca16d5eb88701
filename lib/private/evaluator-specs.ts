import { Stack, Token } from 'aws-cdk-lib';
import { IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import type { EvaluatorSlo, MetricPart, MetricSpec, NumeratorMath } from '../core/evaluator-config';
import { ARM_DIMENSION_NAMES, metricScopesToArm } from '../core/metric-queries';
import type { PolicyRollbackAlarm, PolicyTier } from '../core/policy';
import type { ServiceLevelObjective } from '../slo/service-level-objective';
import type { Sli } from '../slo/sli';
import { DerivedBad } from './sli-counts';

// What a RollbackTrigger hands its evaluator about each objective: plain metric specs (namespace,
// name, statistic, a shared dimension set) that lambda/ reads at run time without aws-cdk-lib.

/**
 * Whether the evaluator reads an SLI as declared (`EvaluatorSlo.declared`): its metrics carry no
 * version dimension of their own and not every one is published per arm (`metricScopesToArm`,
 * judged on its dimensions as declared).
 */
export function readAsDeclared(sli: Sli): boolean {
  if (sli._versionDimension !== undefined) return false;
  const counts = sli._counts;
  const leaves = [counts.total, ...(counts.derivedBad ? Object.values(counts.derivedBad.parts) : [counts.bad ?? counts.good!])];
  return !leaves.every((metric) => {
    const stat = metric.toMetricConfig().metricStat;
    return stat !== undefined && metricScopesToArm(stat.namespace, (stat.dimensions ?? []).map((d) => d.name));
  });
}

/**
 * The trigger's rollback alarms as its policy carries them, a `declared`-scope alarm whose SLI the
 * evaluator reads as declared marked so (`evaluatorReads`): the simulator replays the evaluator on
 * the traffic it reads. The policy alone cannot tell: a raw SLI on a Lambda alias's own metrics
 * has a declared-scope alarm too, and is read per `ExecutedVersion`.
 */
export function withEvaluatorReads(alarms: readonly PolicyRollbackAlarm[], slis: readonly ScopedObjective[]): PolicyRollbackAlarm[] {
  return alarms.map((a) => {
    const read = a.scope === 'declared' ? slis.find((s) => s.slo.sloName === a.slo) : undefined;
    return read && readAsDeclared(read.sli) ? { ...a, evaluatorReads: 'declared' } : a;
  });
}

/** Dimensions the evaluator sets per arm at run time (Lambda ExecutedVersion; ALB target group). */
const RUNTIME_DIMENSIONS = new Set(ARM_DIMENSION_NAMES);

/** An objective as the evaluator reads it: one scoped SLI and the tier it fails on. */
export interface ScopedObjective {
  readonly slo: ServiceLevelObjective;
  readonly sli: Sli;
  readonly tier: PolicyTier;
}

/**
 * The evaluator's metric specs: each metric by namespace, name and statistic, its dimensions stored
 * once per distinct set (the environment is 4 KB), without the dimensions the evaluator sets per arm.
 */
export class EvaluatorMetricSpecs {
  public readonly dimensionSets: Array<Record<string, string>> = [];
  private readonly setKeys: string[] = [];

  constructor(private readonly stack: Stack) {}

  /** The objective's evaluator entry, or undefined when its SLI uses metric math of its own. */
  public slo({ slo, sli, tier }: ScopedObjective): EvaluatorSlo | undefined {
    const counts = sli._counts;
    const total = this.spec(counts.total);
    const numeratorMath = counts.derivedBad && total ? this.math(counts.derivedBad, total) : undefined;
    const numerator = counts.derivedBad ? undefined : this.spec(counts.bad ?? counts.good!);
    if (!total || (!numerator && !numeratorMath)) return undefined;
    return {
      name: slo.sloName,
      errorBudget: slo.errorBudget,
      failBurnRate: tier.factor,
      shortWindowSeconds: tier.shortWindowSeconds,
      minEvents: tier.minEventsPerWindow,
      numeratorKind: counts.bad ? 'bad' : 'good',
      ...(numeratorMath ? { numeratorMath } : { numerator }),
      total,
      // Metrics that carry the version in a dimension of their own (Sli.agentSelfEvaluation's
      // `Version`): the evaluator reads each arm's version into it (lib/core/metric-queries.ts).
      ...(sli._versionDimension !== undefined ? { versionDimension: sli._versionDimension } : {}),
      // Metrics that carry neither (a custom metric without a version, a log pattern's lines without
      // versionField): read as declared, as the rollback alarm (scope `declared`) reads them. One
      // such metric among others makes the whole SLI so: a ratio of one version's count to the
      // whole service's would be no one's.
      ...(readAsDeclared(sli) ? { declared: true } : {}),
    };
  }

  private spec(metric: IMetric): MetricSpec | undefined {
    const stat = metric.toMetricConfig().metricStat;
    if (!stat) return undefined;
    // The arm's own dimensions are set at run time: the deployed version, or blue/green target group.
    const dimensions = Object.fromEntries((stat.dimensions ?? []).filter((d) => !RUNTIME_DIMENSIONS.has(d.name)).map((d) => [d.name, Token.asString(d.value)]));
    const key = JSON.stringify(this.stack.resolve(dimensions));
    let index = this.setKeys.indexOf(key);
    if (index < 0) {
      index = this.setKeys.push(key) - 1;
      this.dimensionSets.push(dimensions);
    }
    return { namespace: stat.namespace, metricName: stat.metricName, dimensionSet: index, stat: stat.statistic };
  }

  /**
   * A derived bad count, as the evaluator computes it per minute: the alarm's own expression, its
   * parts stored by name and statistic only (they read the total's namespace and dimensions).
   */
  private math(derived: DerivedBad, total: MetricSpec): NumeratorMath | undefined {
    const parts: Record<string, MetricPart> = {};
    for (const [name, metric] of Object.entries(derived.parts)) {
      const part = this.spec(metric);
      if (!part || part.namespace !== total.namespace || part.dimensionSet !== total.dimensionSet) return undefined;
      parts[name] = { metricName: part.metricName, stat: part.stat };
    }
    return { expression: derived.render((name) => `{${name}}`), parts };
  }
}
