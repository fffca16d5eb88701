import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

// One agent self-evaluation → one CloudWatch Embedded Metric Format (EMF) log line. This is the
// metric contract `Sli.agentSelfEvaluation` reads: change a name here and the SLI reads nothing.
//
// EMF rather than PutMetricData: the agent needs no IAM permission and makes no API call; CloudWatch
// Logs extracts the metrics from any log event that follows the EMF specification (CloudWatch user
// guide, "Using the embedded metric format with Lambda"). On ECS the awslogs log driver sends stdout
// to CloudWatch Logs with PutLogEvents, where the `x-amzn-logs-format: json/emf` header is optional
// (CloudWatch user guide, "Using the PutLogEvents API to send manually-created EMF logs").

/** The namespace the metrics go to when the caller names none. */
export const DEFAULT_AGENT_NAMESPACE = 'RollbackTriggers/Agent';

/** Confidence below this counts as a bad evaluation when the caller gives no threshold. */
export const DEFAULT_CONFIDENCE_THRESHOLD = 0.7;

/** The metric names of the contract (one datapoint each per evaluation). */
export const AGENT_METRICS = {
  /** Count, always 1: the SLI's total. */
  EVALUATIONS: 'Evaluations',
  /** Count, 1 when the confidence is below the threshold or the output failed its schema, else 0: the SLI's bad events. */
  BAD_EVALUATIONS: 'BadEvaluations',
  /** Count, 1 when the confidence is below the threshold, else 0. */
  LOW_CONFIDENCE: 'LowConfidence',
  /** Count, 1 when `schemaValid` is false, else 0. */
  SCHEMA_INVALID: 'SchemaInvalid',
  /** Unit None: the confidence itself, for dashboards (averages, percentiles). */
  CONFIDENCE: 'Confidence',
} as const;

/** The dimension names of the contract: every metric is emitted under [Service, Version] and under [Service]. */
export const AGENT_DIMENSIONS = {
  SERVICE: 'Service',
  VERSION: 'Version',
} as const;

/** Where an EMF line goes: one complete JSON document, no trailing newline. */
export type EmfSink = (line: string) => void;

/** What `recordEvaluation` needs to know about one evaluation. */
export interface EvaluationInput {
  /** The agent's own confidence in the step's output, from 0 to 1. */
  readonly confidence: number;
  /**
   * Whether the step's output passed its JSON schema (see `validateOutput`). `false` makes the
   * evaluation bad whatever the confidence.
   * @default - not validated: only the confidence decides
   */
  readonly schemaValid?: boolean;
  /**
   * The version that produced the output: the `Version` dimension the SLI judges a release on.
   * On Lambda the executed version, from `AWS_LAMBDA_FUNCTION_VERSION` (`$LATEST` when the
   * function is invoked unqualified or through an alias of `$LATEST`: no rollback alarm watches
   * that, so publish versions). On ECS there is no such variable: pass what tells the releases
   * apart, e.g. the task definition revision or the image tag.
   * @default - process.env.AWS_LAMBDA_FUNCTION_VERSION; required when that is not set
   */
  readonly version?: string;
  /** The service (agent) name: the `Service` dimension. */
  readonly service: string;
  /**
   * The CloudWatch namespace; must match the SLI's.
   * @default 'RollbackTriggers/Agent'
   */
  readonly namespace?: string;
  /**
   * Confidence strictly below this is a bad evaluation, from 0 to 1; should match the SLI's
   * `confidenceThreshold` (the SLI only counts what is decided here).
   * @default 0.7
   */
  readonly threshold?: number;
  /**
   * Where to write the EMF line.
   * @default - standard output, written directly (not through console.log)
   */
  readonly sink?: EmfSink;
}

/** What `recordEvaluation` decided and wrote. */
export interface EvaluationRecord {
  /** The evaluation counts as bad: low confidence or schema invalid. */
  readonly bad: boolean;
  /** The confidence was below the threshold. */
  readonly lowConfidence: boolean;
  /** `schemaValid` was false. */
  readonly schemaInvalid: boolean;
  /** The `Version` dimension written. */
  readonly version: string;
  /** The EMF line written to the sink. */
  readonly line: string;
}

// The line is written to stdout directly, as Powertools Metrics does: Lambda's patched console.log
// prefixes each line with a timestamp, request id and level (text format) or wraps it in a JSON
// object (JSON log format), and the EMF document must be the whole log event ("no additional data
// at the beginning or end", EMF specification, root node). The CloudWatch user guide notes the
// EMF client library lost metrics under the Lambda JSON log format until it stopped using
// console.log (aws-embedded-metrics 4.1.1).
const stdoutSink: EmfSink = (line) => {
  process.stdout.write(`${line}\n`);
};

/** CloudWatch namespace: 1–255 ASCII characters without control characters, not starting with ':' (PutMetricData `Namespace`). @internal */
export function checkNamespace(namespace: unknown, prop = 'namespace'): string {
  if (typeof namespace !== 'string') throw new TypeError(`${prop} must be a string, got ${describe(namespace)}`);
  if (namespace.length < 1 || namespace.length > 255) throw new RangeError(`${prop} must be 1 to 255 characters, got ${namespace.length}: ${JSON.stringify(namespace)}`);
  if (!/^[\x20-\x7e]+$/.test(namespace)) throw new RangeError(`${prop} must contain only printable ASCII characters, got ${JSON.stringify(namespace)}`);
  if (namespace.startsWith(':')) throw new RangeError(`${prop} must not start with ':', got ${JSON.stringify(namespace)}`);
  if (namespace.trim() === '') throw new RangeError(`${prop} must contain a non-whitespace character, got ${JSON.stringify(namespace)}`);
  // PutMetricData `Namespace`: "you should not specify a namespace that begins with AWS/".
  if (namespace.startsWith('AWS/')) throw new RangeError(`${prop} must not start with "AWS/" (reserved for AWS services), got ${JSON.stringify(namespace)}`);
  return namespace;
}

/** CloudWatch dimension value: 1–1024 ASCII characters, no control characters, at least one non-whitespace (CloudWatch API `Dimension.Value`). @internal */
export function checkDimensionValue(value: unknown, prop: string, hint = ''): string {
  if (typeof value !== 'string') throw new TypeError(`${prop} must be a string, got ${describe(value)}${hint}`);
  if (value.length < 1 || value.length > 1024) throw new RangeError(`${prop} must be 1 to 1024 characters, got ${value.length}${hint}`);
  if (!/^[\x20-\x7e]+$/.test(value)) throw new RangeError(`${prop} must contain only printable ASCII characters (a CloudWatch dimension value), got ${JSON.stringify(value)}`);
  if (value.trim() === '') throw new RangeError(`${prop} must contain a non-whitespace character, got ${JSON.stringify(value)}`);
  return value;
}

/** A fraction from 0 to 1 inclusive (the confidence, the threshold). @internal */
export function checkUnitInterval(value: unknown, prop: string): number {
  if (typeof value !== 'number') throw new TypeError(`${prop} must be a number from 0 to 1, got ${describe(value)}`);
  if (!Number.isFinite(value) || value < 0 || value > 1) throw new RangeError(`${prop} must be a finite number from 0 to 1, got ${value}`);
  return value;
}

/** The version to write: the caller's, else the executed Lambda version, else an error that says what to pass. @internal */
export function resolveVersion(version: unknown, prop = 'version'): string {
  if (version !== undefined) return checkDimensionValue(version, prop);
  // AWS_LAMBDA_FUNCTION_VERSION: "the version of the function being executed" (Lambda developer
  // guide, defined runtime environment variables): the same value as the ExecutedVersion dimension.
  const fromLambda = process.env.AWS_LAMBDA_FUNCTION_VERSION;
  if (fromLambda !== undefined && fromLambda !== '') return checkDimensionValue(fromLambda, 'AWS_LAMBDA_FUNCTION_VERSION');
  throw new TypeError(
    `${prop} is required outside AWS Lambda (AWS_LAMBDA_FUNCTION_VERSION is not set): pass the version that produced the output, ` +
      'e.g. the ECS task definition revision or the image tag, the same value the SLI is given',
  );
}

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return `${typeof value} ${String(value)}`;
  return typeof value;
}

/** The settings that stay the same across a run's evaluations, validated once. @internal */
export interface RecorderSettings {
  readonly service: string;
  readonly namespace: string;
  readonly threshold: number;
  readonly version?: string;
  readonly sink: EmfSink;
}

/** Validates the per-run settings of `EvaluationInput` (everything but the confidence and the schema verdict). @internal */
export function resolveSettings(input: Omit<EvaluationInput, 'confidence' | 'schemaValid'>, prefix = ''): RecorderSettings {
  if (input === null || typeof input !== 'object') throw new TypeError(`${prefix ? prefix.slice(0, -1) : 'recordEvaluation'} needs an object with at least { confidence, service }, got ${describe(input)}`);
  const service = checkDimensionValue(input.service, `${prefix}service`);
  const namespace = input.namespace === undefined ? DEFAULT_AGENT_NAMESPACE : checkNamespace(input.namespace, `${prefix}namespace`);
  const threshold = input.threshold === undefined ? DEFAULT_CONFIDENCE_THRESHOLD : checkUnitInterval(input.threshold, `${prefix}threshold`);
  const version = input.version === undefined ? undefined : checkDimensionValue(input.version, `${prefix}version`);
  if (input.sink !== undefined && typeof input.sink !== 'function') throw new TypeError(`${prefix}sink must be a function (line: string) => void, got ${describe(input.sink)}`);
  return { service, namespace, threshold, version, sink: input.sink ?? stdoutSink };
}

// Powertools Metrics serializes the document (one instance per namespace, reused: its namespace is
// fixed at construction). Two adjustments, both through its public API: it always adds a
// lower-case `service` default dimension, which the contract's `Service` replaces
// (clearDefaultDimensions); and it writes to its own stdout console, so the document is taken with
// serializeMetrics() and handed to the sink, which keeps the output injectable.
const serializers = new Map<string, Metrics>();

function serializer(namespace: string): Metrics {
  let metrics = serializers.get(namespace);
  if (metrics === undefined) {
    metrics = new Metrics({ namespace, serviceName: 'agent', logger: console });
    serializers.set(namespace, metrics);
  }
  return metrics;
}

/** The EMF document for one evaluation, serialized. Exported for the tests. @internal */
export function emfLine(settings: RecorderSettings, version: string, confidence: number, lowConfidence: boolean, schemaInvalid: boolean): string {
  const metrics = serializer(settings.namespace);
  try {
    metrics.clearDefaultDimensions();
    metrics.setDefaultDimensions({ [AGENT_DIMENSIONS.SERVICE]: settings.service });
    // [Service, Version]: the new version's own evaluations, what a canary is judged on.
    metrics.addDimension(AGENT_DIMENSIONS.VERSION, version);
    // [Service]: the blended count across versions (a dimension set holds the default dimensions plus its own).
    metrics.addDimensions({});
    metrics.addMetric(AGENT_METRICS.EVALUATIONS, MetricUnit.Count, 1);
    metrics.addMetric(AGENT_METRICS.BAD_EVALUATIONS, MetricUnit.Count, lowConfidence || schemaInvalid ? 1 : 0);
    metrics.addMetric(AGENT_METRICS.LOW_CONFIDENCE, MetricUnit.Count, lowConfidence ? 1 : 0);
    metrics.addMetric(AGENT_METRICS.SCHEMA_INVALID, MetricUnit.Count, schemaInvalid ? 1 : 0);
    metrics.addMetric(AGENT_METRICS.CONFIDENCE, MetricUnit.NoUnit, confidence);
    return JSON.stringify(metrics.serializeMetrics());
  } finally {
    metrics.clearMetrics();
    metrics.clearDimensions();
    metrics.clearDefaultDimensions();
  }
}

/** Records with settings already validated (the checkpoint helper validates them before its step runs). @internal */
export function recordWith(settings: RecorderSettings, confidence: unknown, schemaValid: unknown, prefix = ''): EvaluationRecord {
  const c = checkUnitInterval(confidence, `${prefix}confidence`);
  if (schemaValid !== undefined && typeof schemaValid !== 'boolean') {
    throw new TypeError(`${prefix}schemaValid must be true, false or undefined, got ${describe(schemaValid)} (pass validateOutput(schema, output).valid)`);
  }
  const version = resolveVersion(settings.version, `${prefix}version`);
  const lowConfidence = c < settings.threshold;
  const schemaInvalid = schemaValid === false;
  const line = emfLine(settings, version, c, lowConfidence, schemaInvalid);
  settings.sink(line);
  return { bad: lowConfidence || schemaInvalid, lowConfidence, schemaInvalid, version, line };
}

/**
 * Writes one agent self-evaluation as a CloudWatch Embedded Metric Format line: `Evaluations` 1,
 * `BadEvaluations` 1 when the confidence is below the threshold or `schemaValid` is false (else 0),
 * `LowConfidence`, `SchemaInvalid` and `Confidence`, under the dimension sets [Service, Version]
 * and [Service] of `namespace`. Throws a TypeError or RangeError on bad input, before writing.
 */
export function recordEvaluation(input: EvaluationInput): EvaluationRecord {
  const settings = resolveSettings(input);
  return recordWith(settings, input.confidence, input.schemaValid);
}
