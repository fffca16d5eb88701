import { Stack, Token } from 'aws-cdk-lib';
import { CfnServiceLevelObjective } from 'aws-cdk-lib/aws-applicationsignals';
import { IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { Construct } from 'constructs';
import { RollbackTriggersError, formatSeconds } from '../core/errors';
import type { DerivedTier } from '../core/slo-math';
import { isUnresolved } from './metrics';
import { SliCounts, numeratorOf } from './sli-counts';

/**
 * The SLO as a CloudWatch Application Signals request-based SLO (`AWS::ApplicationSignals::
 * ServiceLevelObjective`), so its attainment and error budget show in the CloudWatch SLO console.
 * It reads the same good/bad and total queries as the burn-rate alarms: a request-based SLO may be
 * set "against any CloudWatch metric or math expression that produces a time series" (CloudFormation
 * resource reference, AWS::ApplicationSignals::ServiceLevelObjective). The alarms stay the library's
 * metric-math alarms: AWS documents no namespace, name or dimensions for the SLO's burn-rate metric
 * (CloudWatch User Guide, "Service level objectives (SLOs)": burn rates are described, their metric
 * is not), so no alarm is built on it.
 */

/** Application Signals API reference, ServiceLevelObjective `Name`: 2 to 128 characters. */
const NAME_PATTERN = /^[0-9A-Za-z][-._0-9A-Za-z ]{0,126}[0-9A-Za-z]$/;
/** API reference, ServiceLevelObjective `BurnRateConfigurations`: at most 10 items. */
export const MAX_BURN_RATE_CONFIGURATIONS = 10;
/** API reference, BurnRateConfiguration `LookBackWindowMinutes`: 1 to 10,080. */
const MAX_LOOK_BACK_MINUTES = 10_080;
/** API reference, MetricDataQuery: at most 10 `MetricStat` and 10 `Expression` queries per array. */
const MAX_QUERIES_PER_KIND = 10;

export interface NativeSloRequest {
  readonly sloName: string;
  /** The name given by the user (`applicationSignalsSloName`), or undefined for the derived one. */
  readonly givenName?: string;
  readonly description: string;
  readonly objectivePercent: number;
  readonly compliancePeriodSeconds: number;
  readonly resolutionSeconds: number;
  readonly counts: SliCounts;
  readonly tiers: readonly DerivedTier[];
}

/** Creates the Application Signals SLO under `scope` as `ApplicationSignalsSlo`. */
export function nativeSlo(scope: Construct, request: NativeSloRequest): CfnServiceLevelObjective {
  const stack = Stack.of(scope);
  const name = request.givenName ?? derivedName(stack, scope, request.sloName);
  if (request.givenName !== undefined) validateNativeName(request.givenName);
  // SLO names are unique per account and Region: two of one stack must differ after the characters
  // the API refuses are replaced ('a/b' and 'a-b' both give '<stack>-a-b').
  const twin = stack.node.findAll().find((c) => c instanceof CfnServiceLevelObjective && Stack.of(c) === stack && !isUnresolved(c.name) && c.name === name);
  if (twin !== undefined) {
    throw new RollbackTriggersError(
      'RT130',
      `the Application Signals SLO name "${name}" is already that of ${twin.node.path} (names are unique per account and Region) — set applicationSignalsSloName on one of them`,
      { prop: 'applicationSignalsSloName' },
    );
  }
  const windows = lookBackWindows(request.tiers, request.compliancePeriodSeconds);
  const monitored = queries(stack, numeratorOf(request.counts), request.counts.bad || request.counts.derivedBad ? 'bad' : 'good', request.resolutionSeconds);
  const total = queries(stack, request.counts.total, 'total', request.resolutionSeconds);
  return new CfnServiceLevelObjective(scope, 'ApplicationSignalsSlo', {
    name,
    description: request.description.slice(0, 1_024),
    requestBasedSli: {
      requestBasedSliMetric: {
        totalRequestCountMetric: total,
        monitoredRequestCountMetric: request.counts.bad || request.counts.derivedBad ? { badCountMetric: monitored } : { goodCountMetric: monitored },
      },
    },
    goal: {
      // API reference, Goal `AttainmentGoal`: for a request-based SLO, the percentage of requests that must be good.
      attainmentGoal: request.objectivePercent,
      interval: { rollingInterval: rollingInterval(request.compliancePeriodSeconds) },
    },
    burnRateConfigurations: windows.map((minutes) => ({ lookBackWindowMinutes: minutes })),
  });
}

/**
 * `<stack name>-<sloName>`, with every character the API refuses replaced by `-`: SLO names are
 * unique per account and Region, and a stack name is too, so two stacks never collide. A stack
 * name known only at deploy time gives the construct's address instead.
 */
function derivedName(stack: Stack, scope: Construct, sloName: string): string {
  const prefix = Token.isUnresolved(stack.stackName) ? `slo-${scope.node.addr.slice(0, 10)}` : stack.stackName;
  let name = `${prefix}-${sloName}`.replace(/[^-._0-9A-Za-z ]/g, '-');
  if (name.length > 128) name = `${name.slice(0, 117)}-${scope.node.addr.slice(0, 10)}`;
  name = name.replace(/^[^0-9A-Za-z]+/, '').replace(/[^0-9A-Za-z]+$/, '');
  return NAME_PATTERN.test(name) ? name : `slo-${scope.node.addr.slice(0, 10)}`;
}

function validateNativeName(name: string): void {
  if (isUnresolved(name)) return;
  if (!NAME_PATTERN.test(name)) {
    throw new RollbackTriggersError(
      'RT130',
      `applicationSignalsSloName must be 2 to 128 characters, letters, digits, '-', '.', '_' or spaces, starting and ending with a letter or digit, got ${JSON.stringify(name)} ` +
        '(Application Signals API reference, ServiceLevelObjective Name)',
      { prop: 'applicationSignalsSloName' },
    );
  }
}

/**
 * One burn-rate configuration per distinct window of the tiers, so the console shows the burn rate
 * over each window the alarms judge. The user guide ("Calculate burn rates") wants a look-back
 * window shorter than the SLO's interval; the API reference allows 1 to 10,080 minutes and 10
 * configurations.
 */
function lookBackWindows(tiers: readonly DerivedTier[], periodSeconds: number): number[] {
  const seconds = [...new Set(tiers.flatMap((t) => [t.longWindowSeconds, t.shortWindowSeconds]))].sort((a, b) => a - b);
  for (const s of seconds) {
    if (s % 60 !== 0 || s / 60 > MAX_LOOK_BACK_MINUTES || s >= periodSeconds) {
      throw new RollbackTriggersError(
        'RT131',
        `alarmLayout NATIVE: the window ${formatSeconds(s)} cannot be an Application Signals burn-rate look-back window, which is whole minutes from 1 to 10,080 and shorter ` +
          `than the compliance period (${formatSeconds(periodSeconds)}) — use AlarmLayout.EXACT, or tiers with such windows`,
        { prop: 'alarmLayout' },
      );
    }
  }
  if (seconds.length > MAX_BURN_RATE_CONFIGURATIONS) {
    throw new RollbackTriggersError(
      'RT131',
      `alarmLayout NATIVE: the tiers use ${seconds.length} distinct windows (${seconds.map(formatSeconds).join(', ')}), but an Application Signals SLO holds at most ` +
        `${MAX_BURN_RATE_CONFIGURATIONS} burn-rate configurations — use fewer tiers or AlarmLayout.EXACT`,
      { prop: 'alarmLayout' },
    );
  }
  return seconds.map((s) => s / 60);
}

/** The compliance period in the largest unit that holds it whole (RollingInterval `DurationUnit`: MINUTE, HOUR, DAY, MONTH). */
function rollingInterval(seconds: number): CfnServiceLevelObjective.RollingIntervalProperty {
  if (seconds % 86_400 === 0) return { duration: seconds / 86_400, durationUnit: 'DAY' };
  if (seconds % 3_600 === 0) return { duration: seconds / 3_600, durationUnit: 'HOUR' };
  if (seconds % 60 === 0) return { duration: seconds / 60, durationUnit: 'MINUTE' };
  throw new RollbackTriggersError('RT131', `alarmLayout NATIVE: the compliance period ${formatSeconds(seconds)} is not whole minutes, the smallest unit of an Application Signals interval`, {
    prop: 'compliancePeriod',
  });
}

/**
 * A metric as MetricDataQuery items: one per metric (`MetricStat`, period = the SLI's resolution, so
 * the SLO counts events minute by minute) and one per math expression, the top one returning data
 * (API reference, MetricDataQuery: "exactly one must have true as the value for ReturnData").
 */
function queries(stack: Stack, metric: IMetric, id: string, periodSeconds: number): CfnServiceLevelObjective.MetricDataQueryProperty[] {
  const out: CfnServiceLevelObjective.MetricDataQueryProperty[] = [];
  const visit = (m: IMetric, queryId: string, returnData: boolean) => {
    if (out.some((q) => q.id === queryId)) return; // the same id names the same metric (checked with the SLI's math)
    const config = m.toMetricConfig();
    if (config.mathExpression) {
      out.push({ id: queryId, expression: config.mathExpression.expression, returnData });
      for (const [usedId, used] of Object.entries(config.mathExpression.usingMetrics)) visit(used, usedId, false);
      return;
    }
    if (!config.metricStat) {
      throw new RollbackTriggersError('RT131', `alarmLayout NATIVE: the SLI's ${id} count is neither a metric nor metric math, which an Application Signals SLO cannot read — use AlarmLayout.EXACT`, {
        prop: 'alarmLayout',
      });
    }
    const s = config.metricStat;
    if (s.region !== undefined && !Token.isUnresolved(s.region) && !Token.isUnresolved(stack.region) && s.region !== stack.region) {
      throw new RollbackTriggersError('RT131', `alarmLayout NATIVE: the SLI reads ${s.metricName} in ${s.region}, but an Application Signals SLO reads metrics of its own Region (${stack.region})`, {
        prop: 'alarmLayout',
      });
    }
    out.push({
      id: queryId,
      metricStat: {
        metric: { namespace: s.namespace, metricName: s.metricName, dimensions: s.dimensions?.map((d) => ({ name: d.name, value: String(d.value) })) },
        period: periodSeconds,
        stat: s.statistic,
        ...(s.unitFilter !== undefined ? { unit: s.unitFilter } : {}),
      },
      ...(s.account !== undefined && s.account !== stack.account ? { accountId: s.account } : {}),
      returnData,
    });
  };
  visit(metric, id, true);
  const stats = out.filter((q) => q.metricStat !== undefined).length;
  if (stats > MAX_QUERIES_PER_KIND || out.length - stats > MAX_QUERIES_PER_KIND) {
    throw new RollbackTriggersError(
      'RT131',
      `alarmLayout NATIVE: the SLI's ${id} count needs ${stats} metrics and ${out.length - stats} expressions, above the 10 of each an Application Signals query list holds — use AlarmLayout.EXACT`,
      { prop: 'alarmLayout' },
    );
  }
  return out;
}
