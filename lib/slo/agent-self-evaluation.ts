import { Token } from 'aws-cdk-lib';
import { Metric, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import { RollbackTriggersError, formatNumber } from '../core/errors';
import type { SliCounts } from '../private/sli-counts';

// The construct side of the agent self-evaluation contract. The agent's runtime helper
// (lib/runtime/evaluation.ts, `recordEvaluation`) writes one CloudWatch Embedded Metric Format line
// per evaluation: in `namespace`, under the dimension sets [Service, Version] and [Service],
// `Evaluations` 1 and `BadEvaluations` 1 or 0 (low confidence or schema invalid, decided there), with
// `LowConfidence`, `SchemaInvalid` and `Confidence` beside them. The constants are repeated here, not
// imported, so the construct side loads nothing of the runtime's; test/slo/agent-self-evaluation-sli.test.ts
// checks both sides name the same metrics, dimensions and defaults.

/** The namespace the runtime helper writes to when the agent names none. */
export const AGENT_DEFAULT_NAMESPACE = 'RollbackTriggers/Agent';
/** Confidence strictly below this is a bad evaluation when the agent gives no threshold. */
export const AGENT_DEFAULT_CONFIDENCE_THRESHOLD = 0.7;
/** The metrics the SLI divides: bad evaluations over evaluations. */
export const AGENT_SLI_METRICS = { bad: 'BadEvaluations', total: 'Evaluations' } as const;
/** The dimensions of the contract: every metric is published under [Service, Version] and [Service]. */
export const AGENT_SLI_DIMENSIONS = { service: 'Service', version: 'Version' } as const;

/** What the factory checked, for the counts and the description. */
export interface CheckedAgentProps {
  readonly service: string;
  readonly namespace: string;
  readonly confidenceThreshold: number;
  readonly version?: string;
}

/**
 * The props as the SLI uses them, refused with a coded error where CloudWatch or the runtime helper
 * would not publish or match them. Values known only at deploy time (tokens) are not checked.
 */
export function checkAgentProps(props: {
  readonly service: string;
  readonly metricNamespace?: string;
  readonly confidenceThreshold?: number;
  readonly version?: string;
}): CheckedAgentProps {
  if (props === undefined || props === null || typeof props !== 'object') {
    throw new RollbackTriggersError('RT140', `Sli.agentSelfEvaluation needs props with at least { service }, got ${String(props)}`, { prop: 'service' });
  }
  const service = dimensionValue('service', props.service, 'the Service dimension the agent passes to recordEvaluation');
  const version =
    props.version === undefined ? undefined : dimensionValue('version', props.version, "the Version the release's tasks write (a task definition revision or an image tag)");
  const namespace = props.metricNamespace === undefined ? AGENT_DEFAULT_NAMESPACE : agentNamespace(props.metricNamespace);
  const confidenceThreshold = props.confidenceThreshold === undefined ? AGENT_DEFAULT_CONFIDENCE_THRESHOLD : threshold(props.confidenceThreshold);
  return { service, namespace, confidenceThreshold, version };
}

/** The counts: `BadEvaluations` over `Evaluations`, Sum, of one version or of every version. */
export function agentCounts(checked: CheckedAgentProps, version: string | undefined): SliCounts {
  const dimensionsMap: Record<string, string> = { [AGENT_SLI_DIMENSIONS.service]: checked.service };
  // [Service, Version] is one version's own evaluations; [Service] all of them (the runtime helper
  // publishes each line under both sets, EMF specification: "Dimensions" is an array of sets).
  if (version !== undefined) dimensionsMap[AGENT_SLI_DIMENSIONS.version] = version;
  const metric = (metricName: string) => new Metric({ namespace: checked.namespace, metricName, dimensionsMap, statistic: Stats.SUM });
  return { bad: metric(AGENT_SLI_METRICS.bad), total: metric(AGENT_SLI_METRICS.total) };
}

/**
 * The SLI's description in alarm descriptions and the plan: the agent, the threshold the runtime
 * helper applies, and whose evaluations. A service given as a token is not printed: the policy and
 * the plan are plain text.
 */
export function agentDescription(checked: CheckedAgentProps, which: 'all' | 'declared' | 'deployed'): string {
  const agent = Token.isUnresolved(checked.service) ? 'the agent' : `agent ${checked.service}`;
  const versions =
    which === 'all'
      ? 'every version'
      : which === 'deployed'
        ? 'the deployed version'
        : Token.isUnresolved(checked.version)
          ? 'one version'
          : `version ${checked.version}`;
  return (
    `self-evaluations of ${agent} (${versions}) that are bad (confidence below ${formatNumber(checked.confidenceThreshold)} or output failing its schema, ` +
    'as the agent\'s recordEvaluation decides) / self-evaluations'
  );
}

/** A CloudWatch dimension value: 1 to 1,024 printable ASCII characters, not blank (CloudWatch API `Dimension.Value`). */
function dimensionValue(prop: string, value: unknown, what: string): string {
  if (Token.isUnresolved(value)) return value as string;
  const fail = (why: string): never => {
    throw new RollbackTriggersError('RT140', `${prop} must be ${what}: a CloudWatch dimension value of 1 to 1,024 printable ASCII characters, ${why}`, { prop });
  };
  if (typeof value !== 'string') return fail(`got ${value === undefined ? 'nothing' : typeof value}`);
  if (value.length < 1 || value.length > 1024) return fail(`got ${value.length} characters`);
  if (!/^[\x20-\x7e]+$/.test(value)) return fail(`got ${JSON.stringify(value)}`);
  if (value.trim() === '') return fail(`not blank, got ${JSON.stringify(value)}`);
  return value;
}

/**
 * The namespace the agent's EMF lines name: PutMetricData `Namespace` (1 to 255 characters, "you
 * should not specify a namespace that begins with AWS/"), as the runtime helper checks it.
 */
function agentNamespace(namespace: unknown): string {
  if (Token.isUnresolved(namespace)) return namespace as string;
  const fail = (why: string): never => {
    throw new RollbackTriggersError(
      'RT141',
      `metricNamespace must be the CloudWatch namespace the agent's recordEvaluation writes to (1 to 255 printable ASCII characters), ${why} — omit it for ${JSON.stringify(AGENT_DEFAULT_NAMESPACE)}`,
      { prop: 'metricNamespace' },
    );
  };
  if (typeof namespace !== 'string') return fail(`got ${typeof namespace}`);
  if (namespace.length < 1 || namespace.length > 255) return fail(`got ${namespace.length} characters`);
  if (!/^[\x20-\x7e]+$/.test(namespace) || namespace.trim() === '') return fail(`got ${JSON.stringify(namespace)}`);
  if (namespace.startsWith(':')) return fail(`not starting with ':', got ${JSON.stringify(namespace)}`);
  if (namespace.startsWith('AWS/')) return fail(`not starting with "AWS/" (reserved for AWS services), got ${JSON.stringify(namespace)}`);
  return namespace;
}

/**
 * The threshold is applied by the runtime helper, where each evaluation is decided; the SLI only
 * prints it, but a value no evaluation could be judged by is a mistake worth stopping at synth.
 */
function threshold(value: unknown): number {
  if (Token.isUnresolved(value)) {
    throw new RollbackTriggersError('RT142', 'confidenceThreshold must be a literal number: the plan and the alarm descriptions print it at synth', { prop: 'confidenceThreshold' });
  }
  if (typeof value !== 'number' || !Number.isFinite(value) || value <= 0 || value > 1) {
    throw new RollbackTriggersError(
      'RT142',
      `confidenceThreshold must be above 0 and at most 1 (a confidence below it is a bad evaluation), got ${typeof value === 'number' ? formatNumber(value) : String(value)} — ` +
        `use the threshold the agent passes to recordEvaluation (${AGENT_DEFAULT_CONFIDENCE_THRESHOLD} by default)`,
      { prop: 'confidenceThreshold' },
    );
  }
  return value;
}
