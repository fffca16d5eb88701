import { Duration } from 'aws-cdk-lib';
import { IMetric, Metric, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import { IApplicationTargetGroup, HttpCodeTarget } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { IAlias, IFunction, IVersion } from 'aws-cdk-lib/aws-lambda';
import { IFilterPattern, ILogGroup, MetricFilter } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { RollbackTriggersError } from '../core/errors';
import { SliKind as CoreSliKind, SliScope as CoreSliScope } from '../core/policy';
import { DerivedBad, SliCounts, derivedBadExpression } from '../private/sli-counts';
import { AGENT_SLI_DIMENSIONS, agentCounts, agentDescription, checkAgentProps } from './agent-self-evaluation';
import { LOG_PATTERN_VERSION_DIMENSION, createLogPatternFilters, shortPattern } from './log-pattern';

/** Which traffic an SLI measures. The rollback path needs SLIs scoped to the new version. */
export enum SliScope {
  /** All traffic of the service, every version blended: right for paging, too slow to judge a canary. */
  BLENDED = 'blended',
  /** One Lambda version's own traffic (the `ExecutedVersion` dimension, or a version's qualifier). */
  VERSION = 'version',
  /** One ALB target group's traffic (blue or green of an ECS blue/green deployment). */
  TARGET_GROUP = 'target-group',
}

/** What an SLI counts as a bad event. */
export enum SliKind {
  /** Failed requests over all requests. */
  ERROR_RATIO = 'error-ratio',
  /** All requests minus good ones, over all requests. */
  SUCCESS_RATIO = 'success-ratio',
  /** Requests slower than a threshold over all requests. */
  LATENCY = 'latency',
  /** Failed business operations (for example payments) over attempts. */
  BUSINESS_FAILURE = 'business-failure',
}

/** Options shared by the SLI factories that take raw metrics. */
export interface SliOptions {
  /**
   * Which traffic the metrics measure. Declare `VERSION` or `TARGET_GROUP` only when the metrics
   * really carry that dimension: the rollback path trusts it.
   *
   * @default SliScope.BLENDED
   */
  readonly scope?: SliScope;
  /**
   * A human description used in alarm descriptions and the plan.
   *
   * @default - derived from the metrics
   */
  readonly description?: string;
}

/** An SLI from a count of bad events and a count of all events. */
export interface ErrorRatioSliProps extends SliOptions {
  /** Count of failed events per period (use the `Sum` statistic). */
  readonly badEvents: IMetric;
  /** Count of all events per period, bad ones included (use the `Sum` statistic). */
  readonly totalEvents: IMetric;
}

/** An SLI from a count of good events and a count of all events. */
export interface SuccessRatioSliProps extends SliOptions {
  /** Count of successful events per period (use the `Sum` statistic). */
  readonly goodEvents: IMetric;
  /** Count of all events per period (use the `Sum` statistic). */
  readonly totalEvents: IMetric;
}

/** A business SLI: failed operations over attempted ones (for example failed payments over payments). */
export interface BusinessFailureSliProps extends SliOptions {
  /** Count of failed business operations per period. */
  readonly failures: IMetric;
  /** Count of attempted business operations per period, failures included. */
  readonly attempts: IMetric;
}

/** A latency SLI from a user's own count of slow requests. */
export interface SlowRequestSliProps extends SliOptions {
  /** Count of requests slower than the threshold per period. */
  readonly slowRequests: IMetric;
  /** Count of all requests per period. */
  readonly totalRequests: IMetric;
}

/**
 * A latency SLI from a latency metric with one sample per request: total = the metric's
 * `SampleCount`, slow = `SampleCount` × (100 − `PR(:threshold)`) / 100, where the percentile rank
 * `PR(:threshold)` is the percentage of samples at or below the threshold.
 */
export interface LatencySliProps extends SliOptions {
  /**
   * The latency metric, one sample per request (for example Lambda `Duration`); its statistic is
   * replaced. Publish each request's value: CloudWatch computes percentiles (and so the percentile
   * rank) from raw values, not from statistic sets, and a window without a percentile rank counts
   * no slow request here (`FILL(pr, 100)`): a metric published only as statistic sets would never
   * read slow.
   */
  readonly latency: Metric;
  /** The slowest acceptable latency, in the metric's own unit (milliseconds for Lambda `Duration`). */
  readonly threshold: number;
}

/**
 * An SLI on an agent's own judgement of its work: the self-evaluations its runtime helper
 * (`recordEvaluation` of `cdk-rollback-triggers/runtime`) writes as CloudWatch Embedded Metric
 * Format lines.
 */
export interface AgentSelfEvaluationSliProps {
  /** The agent's name: the `Service` dimension it passes to `recordEvaluation`. */
  readonly service: string;
  /**
   * The CloudWatch namespace the agent's `recordEvaluation` writes to (its `namespace`). Named
   * `metricNamespace` here: `namespace` is a reserved word in C# (jsii JSII5018).
   *
   * @default 'RollbackTriggers/Agent'
   */
  readonly metricNamespace?: string;
  /**
   * The confidence below which an evaluation is bad, above 0 and at most 1. The agent's
   * `recordEvaluation` applies it (its `threshold`) when it writes `BadEvaluations`: give both the
   * same value. The SLI only prints it in its description and the plan.
   *
   * @default 0.7
   */
  readonly confidenceThreshold?: number;
  /**
   * Measure one version's evaluations only (the `Version` dimension). On Lambda leave it out: the
   * agent writes its executed version (`AWS_LAMBDA_FUNCTION_VERSION`), and a `RollbackTrigger` on
   * the alias reads the deployed version's evaluations by itself. A `RollbackTrigger` on an ECS
   * service refuses a declared version (RT148): it is fixed at synth, and CodeDeploy releases task
   * sets the app does not name. Declared, it suits an SLO that only pages on one version.
   *
   * @default - every version's evaluations (the `[Service]` dimension set), blended
   */
  readonly version?: string;
  /**
   * A human description used in alarm descriptions and the plan.
   *
   * @default - the agent, the confidence threshold and the versions measured
   */
  readonly description?: string;
}

/**
 * An SLI on a service's log lines: CloudWatch Logs metric filters count the lines that say
 * something broke, and the lines (or the events) they are a share of.
 */
export interface LogPatternSliProps {
  /** The log group whose lines are counted (Standard log class: metric filters support no other). */
  readonly logGroup: ILogGroup;
  /**
   * What a bad line matches, for example `FilterPattern.literal('"payment declined: internal"')`
   * or `FilterPattern.stringValue('$.level', '=', 'ERROR')`. Not empty: an empty pattern matches
   * every line.
   */
  readonly badPattern: IFilterPattern;
  /**
   * What every counted line matches (the total), for example `FilterPattern.exists('$.requestId')`
   * or `FilterPattern.allEvents()`. Give exactly one of `totalPattern` and `totalMetric`.
   *
   * @default - none: give totalMetric
   */
  readonly totalPattern?: IFilterPattern;
  /**
   * The events the bad lines are a share of, as a metric of the service (its request count, `Sum`).
   * Give exactly one of `totalPattern` and `totalMetric`.
   *
   * @default - none: give totalPattern
   */
  readonly totalMetric?: IMetric;
  /**
   * The field of the line that holds the version that wrote it: `$.version` in a JSON pattern,
   * `$version` in a space-delimited one (CloudWatch Logs takes dimension values only from such
   * fields). The metric filters then also publish the counts per `Version`, and a `RollbackTrigger`
   * on a Lambda alias reads the deployed version's lines (write `AWS_LAMBDA_FUNCTION_VERSION` into
   * each line). Needs `totalPattern` of the same kind.
   *
   * @default - the lines carry no version: the SLI is blended, and a RollbackTrigger warns that it cannot judge a canary on it
   */
  readonly versionField?: string;
  /**
   * The namespace of the counted lines.
   *
   * @default 'RollbackTriggers/LogPatterns'
   */
  readonly metricNamespace?: string;
  /**
   * The name of the bad lines' metric.
   *
   * @default - the construct's unique name followed by `BadLines`
   */
  readonly badMetricName?: string;
  /**
   * The name of the counted lines' metric (with `totalPattern`).
   *
   * @default - the construct's unique name followed by `Lines`
   */
  readonly totalMetricName?: string;
  /**
   * A human description used in alarm descriptions and the plan.
   *
   * @default - the two patterns (their first 60 characters)
   */
  readonly description?: string;
}

/** Options for Lambda SLIs. */
export interface LambdaSliOptions {
  /**
   * Measure only this version's traffic through the alias (`ExecutedVersion` dimension). Requires
   * the target to be an alias: that is how CodeDeploy shifts traffic.
   *
   * @default - all traffic of the target
   */
  readonly executedVersion?: IVersion;
}

/**
 * A service level indicator: which events are bad, out of which events.
 *
 * Closed set of factories (no unions in the API): pick a raw-metric factory for any `IMetric`, or a
 * convenience factory for a Lambda function, version or alias and for an ALB target group.
 */
export class Sli {
  /** Bad events over total events, for example 5xx responses over requests. */
  public static errorRatio(props: ErrorRatioSliProps): Sli {
    return new Sli(SliKind.ERROR_RATIO, props.scope, props.description ?? 'bad events / total events', { bad: props.badEvents, total: props.totalEvents });
  }

  /** 1 − good events over total events. */
  public static successRatio(props: SuccessRatioSliProps): Sli {
    return new Sli(SliKind.SUCCESS_RATIO, props.scope, props.description ?? '1 - good events / total events', { good: props.goodEvents, total: props.totalEvents });
  }

  /** Failed business operations over attempted ones, for example failed payments over payments. */
  public static businessFailureRatio(props: BusinessFailureSliProps): Sli {
    return new Sli(SliKind.BUSINESS_FAILURE, props.scope, props.description ?? 'failed operations / attempted operations', {
      bad: props.failures,
      total: props.attempts,
    });
  }

  /** Slow requests over all requests, from the user's own slow-request count. */
  public static slowRequestRatio(props: SlowRequestSliProps): Sli {
    return new Sli(SliKind.LATENCY, props.scope, props.description ?? 'slow requests / requests', { bad: props.slowRequests, total: props.totalRequests });
  }

  /**
   * Share of samples of a latency metric above a threshold: `SampleCount` samples in all, of which
   * `SampleCount` × (100 − `PR(:threshold)`) / 100 are slower than the threshold.
   */
  public static latency(props: LatencySliProps): Sli {
    assertPositive('threshold', props.threshold);
    // "SampleCount is the number of data points during the period" (CloudWatch statistics
    // definitions): the number of requests for a metric published with one value per request.
    const samples = props.latency.with({ statistic: Stats.SAMPLE_COUNT });
    return new Sli(
      SliKind.LATENCY,
      props.scope,
      props.description ?? `share of samples above ${props.threshold}`,
      latencyCounts(props.latency, props.threshold, samples),
      props.threshold,
    );
  }

  /** Lambda errors over invocations, for a function, a version or an alias (optionally one version behind it). */
  public static lambdaAvailability(target: IFunction, options: LambdaSliOptions = {}): Sli {
    const { dimensions, scope, label } = lambdaDimensions(target, options);
    // "Types of metrics for Lambda functions",
    // https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html: Errors, "The
    // number of invocations that result in a function error"; Invocations, every invocation,
    // function errors included; both viewed with Sum.

    const metric = (metricName: string) => new Metric({ namespace: 'AWS/Lambda', metricName, dimensionsMap: dimensions, statistic: Stats.SUM });
    const sli = new Sli(SliKind.ERROR_RATIO, scope, `Lambda Errors / Invocations of ${label}`, { bad: metric('Errors'), total: metric('Invocations') });
    sli.rebind = {
      forVersion: (version) => Sli.lambdaAvailability(target, { executedVersion: version }),
      whole: () => Sli.lambdaAvailability(target),
    };
    return sli;
  }

  /**
   * Share of Lambda invocations whose `Duration` exceeds the threshold: `Invocations` in all, of
   * which `Invocations` × (100 − `PR(:threshold)` of `Duration`) / 100 are slow.
   */
  public static lambdaLatency(target: IFunction, threshold: Duration, options: LambdaSliOptions = {}): Sli {
    const thresholdMs = threshold.toMilliseconds();
    assertPositive('threshold', thresholdMs);
    const { dimensions, scope, label } = lambdaDimensions(target, options);
    // "Types of metrics for Lambda functions",
    // https://docs.aws.amazon.com/lambda/latest/dg/monitoring-metrics-types.html: Invocations, "The
    // number of times that your function code is invoked, including successful invocations and
    // invocations that result in a function error", viewed with Sum; Duration, "The amount of time
    // that your function code spends processing an event", in milliseconds, one value per invocation.
    const invocations = new Metric({ namespace: 'AWS/Lambda', metricName: 'Invocations', dimensionsMap: dimensions, statistic: Stats.SUM });
    const duration = new Metric({ namespace: 'AWS/Lambda', metricName: 'Duration', dimensionsMap: dimensions });
    const sli = new Sli(SliKind.LATENCY, scope, `Lambda invocations of ${label} slower than ${thresholdMs} ms`, latencyCounts(duration, thresholdMs, invocations), thresholdMs);
    sli.rebind = {
      forVersion: (version) => Sli.lambdaLatency(target, threshold, { executedVersion: version }),
      whole: () => Sli.lambdaLatency(target, threshold),
    };
    return sli;
  }

  /**
   * Failed requests of an ALB target group over its requests: the targets' own 5xx responses plus
   * the requests the load balancer routed to the group that got no response from a target
   * (connection refused or reset, no connection or no response before the timeout: the load
   * balancer answers those with its own 502 or 504, which `HTTPCode_Target_5XX_Count` leaves out and
   * `HTTPCode_ELB_5XX_Count` counts without a `TargetGroup` dimension).
   *
   * bad = `HTTPCode_Target_5XX_Count` + max(0, `RequestCount` − the targets' 2xx, 3xx, 4xx and 5xx
   * responses); total = `RequestCount`; all per `TargetGroup` and `LoadBalancer`, `Sum`. A request
   * the load balancer could not route to a target at all (no registered target) is in none of the
   * group's metrics (its 503: "The target groups for the load balancer have no registered
   * targets", the ALB troubleshooting page).
   */
  public static targetGroupAvailability(targetGroup: IApplicationTargetGroup): Sli {
    // Every metric below is documented per TargetGroup (with LoadBalancer) on "CloudWatch metrics
    // for your Application Load Balancer",
    // https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html
    const metrics = targetGroup.metrics;
    // RequestCount: "The number of requests processed over IPv4 and IPv6. This metric is only
    // incremented for requests where the load balancer node was able to choose a target."
    // Statistics: "The most useful statistic is Sum." Dimensions include TargetGroup, LoadBalancer.
    const requests = metrics.requestCount({ statistic: Stats.SUM });
    // HTTPCode_Target_2XX/3XX/4XX/5XX_Count: "The number of HTTP response codes generated by the
    // targets. This does not include any response codes generated by the load balancer."
    // Statistics: "The most useful statistic is Sum." Dimensions include TargetGroup, LoadBalancer.
    const target = (code: HttpCodeTarget) => metrics.httpCodeTarget(code, { statistic: Stats.SUM });
    const parts = {
      t2xx: target(HttpCodeTarget.TARGET_2XX_COUNT),
      t3xx: target(HttpCodeTarget.TARGET_3XX_COUNT),
      t4xx: target(HttpCodeTarget.TARGET_4XX_COUNT),
      t5xx: target(HttpCodeTarget.TARGET_5XX_COUNT),
    };
    const derivedBad: DerivedBad = {
      parts,
      // Requests routed to the group (RequestCount) that got no target response, never below 0
      // (IF is CloudWatch metric math's documented conditional; a count published in the next
      // minute must not turn into negative failures), plus the targets' own 5xx. FILL: count
      // metrics publish nothing in a minute without such responses.
      render: (id) => {
        const responses = (['t2xx', 't3xx', 't4xx', 't5xx'] as const).map((n) => `FILL(${id(n)}, 0)`).join(' + ');
        const noResponse = `${id('total')} - (${responses})`;
        return `FILL(${id('t5xx')}, 0) + IF(${noResponse} > 0, ${noResponse}, 0)`;
      },
      description: 'target 5xx + requests without a target response',
    };
    const sli = new Sli(SliKind.ERROR_RATIO, SliScope.TARGET_GROUP, 'ALB target 5xx and requests without a target response / requests of the target group', {
      bad: derivedBadExpression(derivedBad, requests, ''),
      total: requests,
      derivedBad,
    });
    sli.rebind = { forTargetGroup: (tg) => Sli.targetGroupAvailability(tg) };
    return sli;
  }

  /**
   * Share of an ALB target group's requests whose `TargetResponseTime` exceeds the threshold:
   * `RequestCount` in all, of which `RequestCount` × (100 − `PR(:threshold)` of
   * `TargetResponseTime`) / 100 are slow. A request that got no response from a target (a timeout,
   * a reset) has no `TargetResponseTime` sample, so its latency is never measured: it counts as slow
   * only in the share the answered requests of the window were slow. It is a failure in
   * {@link Sli.targetGroupAvailability}, which counts it.
   */
  public static targetGroupLatency(targetGroup: IApplicationTargetGroup, threshold: Duration): Sli {
    const thresholdSeconds = threshold.toMilliseconds() / 1000;
    assertPositive('threshold', thresholdSeconds);
    // "CloudWatch metrics for your Application Load Balancer",
    // https://docs.aws.amazon.com/elasticloadbalancing/latest/application/load-balancer-cloudwatch-metrics.html,
    // both per TargetGroup and LoadBalancer. TargetResponseTime: "The time elapsed, in seconds, after
    // the request leaves the load balancer until the target starts to send the response headers."
    // Its SampleCount the page calls "typically not useful", so the total is RequestCount ("The
    // most useful statistic is Sum"), and the share of samples at or below the threshold is its
    // percentile rank, weighted by the window's requests.
    const requests = targetGroup.metrics.requestCount({ statistic: Stats.SUM });
    const sli = new Sli(
      SliKind.LATENCY,
      SliScope.TARGET_GROUP,
      `ALB requests of the target group slower than ${thresholdSeconds} s`,
      latencyCounts(asMetric(targetGroup.metrics.targetResponseTime()), thresholdSeconds, requests),
      thresholdSeconds,
    );
    sli.rebind = { forTargetGroup: (tg) => Sli.targetGroupLatency(tg, threshold) };
    return sli;
  }

  /**
   * An agent's bad self-evaluations over its self-evaluations: `BadEvaluations` over `Evaluations`,
   * `Sum`, in the namespace its runtime helper (`recordEvaluation`) writes to. The helper decides
   * each evaluation where it is made (confidence below the threshold, or output failing its JSON
   * schema), so the SLI counts what it wrote.
   *
   * Per version like {@link Sli.lambdaAvailability}: the helper publishes every evaluation under the
   * dimension sets `[Service, Version]` and `[Service]`. As declared, the SLI reads `[Service]`
   * (every version, blended) or, with `version`, that version's own evaluations. A `RollbackTrigger`
   * on a Lambda alias reads the deployed version's evaluations (`Version` = the version number the
   * agent writes from `AWS_LAMBDA_FUNCTION_VERSION`, the `ExecutedVersion` of Lambda's own metrics)
   * and compares them with the rest of the agent's. On an ECS trigger give it without `version`
   * (a declared version is refused there, RT148: CodeDeploy releases task sets the app does not name).
   *
   * Its kind is `BUSINESS_FAILURE`: a bad evaluation is not a failed invocation (the simulator
   * reads it from a series' `failures`).
   */
  public static agentSelfEvaluation(props: AgentSelfEvaluationSliProps): Sli {
    const checked = checkAgentProps(props);
    const declared = checked.version !== undefined;
    const sli = new Sli(
      SliKind.BUSINESS_FAILURE,
      declared ? SliScope.VERSION : SliScope.BLENDED,
      props.description ?? agentDescription(checked, declared ? 'declared' : 'all'),
      agentCounts(checked, checked.version),
    );
    // A declared version is read as declared by the evaluator too (lib/core/metric-queries.ts).
    if (declared) sli._versionDimension = AGENT_SLI_DIMENSIONS.version;
    sli.rebind = {
      forVersion: (version) => {
        const scoped = new Sli(SliKind.BUSINESS_FAILURE, SliScope.VERSION, agentDescription(checked, 'deployed'), agentCounts(checked, version.version));
        scoped._versionDimension = AGENT_SLI_DIMENSIONS.version;
        return scoped;
      },
      whole: () => new Sli(SliKind.BUSINESS_FAILURE, SliScope.BLENDED, agentDescription(checked, 'all'), agentCounts(checked, undefined)),
    };
    return sli;
  }

  /**
   * Bad log lines over counted lines (or over a metric of the service's events): CloudWatch Logs
   * metric filters, created under `scope/id`, count each line the bad pattern matches (metric value
   * 1, default value 0) and each line the total pattern matches; the SLI divides their `Sum`s.
   *
   * With `versionField`, two more filters publish the same counts per `Version`, taken from the
   * line, and a `RollbackTrigger` on a Lambda alias reads the deployed version's own lines. Without
   * it the SLI is blended: the trigger warns, as for any blended SLI, that a canary is judged on
   * all traffic.
   *
   * @param scope where the metric filters are created (in the scope's stack)
   * @param id the id of the construct that holds them
   */
  public static logPattern(scope: Construct, id: string, props: LogPatternSliProps): Sli {
    const created = createLogPatternFilters(scope, id, props);
    const description = props.description ?? `log lines matching ${shortPattern(created.badPatternText)} / ${created.totalText}`;
    const sli = new Sli(SliKind.ERROR_RATIO, SliScope.BLENDED, description, created.blended);
    sli.metricFilters.push(...created.filters);
    const forVersion = created.forVersion;
    if (forVersion) {
      sli.rebind = {
        forVersion: (version) => {
          const scoped = new Sli(SliKind.ERROR_RATIO, SliScope.VERSION, `${description} (the deployed version's lines)`, forVersion(version.version));
          scoped._versionDimension = LOG_PATTERN_VERSION_DIMENSION;
          return scoped;
        },
        whole: () => new Sli(SliKind.ERROR_RATIO, SliScope.BLENDED, description, created.blended),
      };
    }
    return sli;
  }

  /** What counts as bad. */
  public readonly kind: SliKind;
  /** Which traffic the SLI measures. */
  public readonly scope: SliScope;
  /** Human description, used in alarm descriptions and the plan. */
  public readonly description: string;
  /** Latency threshold in the metric's own unit, for latency SLIs. */
  public readonly latencyThreshold?: number;

  /** The CloudWatch Logs metric filters the SLI created ({@link Sli.logPattern}); empty for the other SLIs. */
  public readonly metricFilters: MetricFilter[] = [];

  /** @internal */
  public readonly _counts: SliCounts;

  /**
   * The dimension the SLI's metrics carry the version in when it is not Lambda's
   * `ExecutedVersion` (`Version`), for the evaluator; undefined for the others.
   *
   * @internal
   */
  public _versionDimension?: string;

  /** How a convenience SLI re-targets itself to one version or target group (raw-metric SLIs cannot). */
  private rebind: { forVersion?: (version: IVersion) => Sli; whole?: () => Sli; forTargetGroup?: (tg: IApplicationTargetGroup) => Sli } = {};

  private constructor(kind: SliKind, scope: SliScope | undefined, description: string, counts: SliCounts, latencyThreshold?: number) {
    this.kind = kind;
    this.scope = scope ?? SliScope.BLENDED;
    this.description = description;
    this._counts = counts;
    this.latencyThreshold = latencyThreshold;
  }

  /**
   * The same SLI measured on one Lambda version's traffic through its alias.
   *
   * @internal
   */
  public _forVersion(version: IVersion): Sli | undefined {
    try {
      return this.rebind.forVersion?.(version);
    } catch (e) {
      // A function (not an alias) has no per-version metrics through CodeDeploy's alias.
      if (e instanceof RollbackTriggersError) return undefined;
      throw e;
    }
  }

  /**
   * The same SLI over all traffic of its target (every version through the alias), whatever
   * version it was scoped to.
   *
   * @internal
   */
  public _whole(): Sli | undefined {
    return this.rebind.whole?.();
  }

  /**
   * The same SLI measured on another target group.
   *
   * @internal
   */
  public _forTargetGroup(targetGroup: IApplicationTargetGroup): Sli | undefined {
    return this.rebind.forTargetGroup?.(targetGroup);
  }

  /** @internal */
  public _coreKind(): CoreSliKind {
    return this.kind as string as CoreSliKind;
  }

  /** @internal */
  public _coreScope(): CoreSliScope {
    return this.scope as string as CoreSliScope;
  }
}

/**
 * Slow requests as metric math: `total` × (100 − `PR(:threshold)`) / 100. "Percentile rank (PR) is
 * the percentage of values that meet a fixed threshold. For example, PR(:300) returns the
 * percentage of data points that have a value of 300 or less", and "Percentile rank is exclusive on
 * the lower bound and inclusive on the upper bound" (CloudWatch statistics definitions,
 * https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/Statistics-definitions.html), so
 * 100 − PR is the percentage above the threshold. An alarm's period is its whole window, so PR is
 * the window's share of slow samples and the product the window's slow requests; the evaluator
 * computes it per minute and sums. FILL(pr, 100): a window without samples has no slow ones.
 * FLOOR(… + 0.5) rounds to whole requests (FLOOR is a documented metric-math function): computed
 * in floating point, 3 slow of 7 comes back as 3.0000000000000004 and 1 of 3 as
 * 0.9999999999999999, and a rollback alarm compares the new version's count with its baseline's.
 */
function latencyCounts(latency: Metric, threshold: number, total: IMetric): SliCounts {
  const derivedBad: DerivedBad = {
    parts: { pr: latency.with({ statistic: Stats.percentileRank(threshold) }) },
    render: (id) => `FLOOR(${id('total')} * (100 - FILL(${id('pr')}, 100)) / 100 + 0.5)`,
    description: `samples above ${threshold}`,
  };
  return { bad: derivedBadExpression(derivedBad, total, ''), total, derivedBad };
}

/**
 * Lambda's dimensions, as the Lambda Developer Guide's metrics pages list them: `FunctionName`;
 * `Resource`, a version or an alias (`name:qualifier`); `ExecutedVersion`, the version that ran,
 * for invocations through an alias — hence the new version's own traffic is `Resource` = the alias
 * with `ExecutedVersion` = its number.
 */
function lambdaDimensions(target: IFunction, options: LambdaSliOptions): { dimensions: Record<string, string>; scope: SliScope; label: string } {
  const alias = target as Partial<IAlias>;
  const version = target as Partial<IVersion>;
  if (alias.aliasName !== undefined && alias.version !== undefined) {
    const functionName = alias.version.lambda.functionName;
    const dimensions: Record<string, string> = { FunctionName: functionName, Resource: `${functionName}:${alias.aliasName}` };
    if (options.executedVersion) {
      // Lambda publishes alias traffic per executed version: the canary's own metrics during a shift.
      dimensions.ExecutedVersion = options.executedVersion.version;
      return { dimensions, scope: SliScope.VERSION, label: `alias ${alias.aliasName} (executed version only)` };
    }
    return { dimensions, scope: SliScope.BLENDED, label: `alias ${alias.aliasName}` };
  }
  if (options.executedVersion) {
    throw new RollbackTriggersError(
      'RT110',
      'executedVersion needs an alias as the target: Lambda publishes the ExecutedVersion dimension only for invocations through an alias',
      { prop: 'executedVersion' },
    );
  }
  if (version.version !== undefined && version.lambda !== undefined) {
    const functionName = version.lambda.functionName;
    return { dimensions: { FunctionName: functionName, Resource: `${functionName}:${version.version}` }, scope: SliScope.VERSION, label: 'the version' };
  }
  return { dimensions: { FunctionName: target.functionName }, scope: SliScope.BLENDED, label: 'the function' };
}

function assertPositive(prop: string, value: number): void {
  if (!(value > 0) || !Number.isFinite(value)) {
    throw new RollbackTriggersError('RT111', `${prop} must be a positive number, got ${value}`, { prop });
  }
}

function asMetric(metric: IMetric): Metric {
  if (!(metric instanceof Metric)) {
    throw new RollbackTriggersError('RT112', 'the target group latency metric is not a plain CloudWatch metric; use Sli.latency() with your own metric', { prop: 'targetGroup' });
  }
  return metric;
}
