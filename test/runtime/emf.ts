// A checker for CloudWatch Embedded Metric Format documents, written from the specification
// (CloudWatch user guide, "Specification: Embedded metric format"), independent of the code under
// test: the tests parse the helper's lines back with it.

/** The units CloudWatch accepts (PutMetricData `MetricDatum.Unit`). */
const UNITS = new Set([
  'Seconds', 'Microseconds', 'Milliseconds', 'Bytes', 'Kilobytes', 'Megabytes', 'Gigabytes', 'Terabytes', 'Bits', 'Kilobits', 'Megabits',
  'Gigabits', 'Terabits', 'Percent', 'Count', 'Bytes/Second', 'Kilobytes/Second', 'Megabytes/Second', 'Gigabytes/Second',
  'Terabytes/Second', 'Bits/Second', 'Kilobits/Second', 'Megabits/Second', 'Gigabits/Second', 'Terabits/Second', 'Count/Second', 'None',
]);

export interface EmfMetricDefinition {
  Name: string;
  Unit?: string;
  StorageResolution?: number;
}

export interface EmfDirective {
  Namespace: string;
  Dimensions: string[][];
  Metrics: EmfMetricDefinition[];
}

export interface EmfDocument {
  _aws: { Timestamp: number; CloudWatchMetrics: EmfDirective[] };
  [member: string]: unknown;
}

/** Parses one log line as an EMF document; throws with the first rule it breaks. */
export function parseEmf(line: string): EmfDocument {
  // Root node: the log event is one JSON object with no data before or after it.
  if (line !== line.trim() || line.includes('\n')) throw new Error('an EMF log event is one JSON object with nothing around it');
  const doc = JSON.parse(line) as Record<string, unknown>;
  if (doc === null || typeof doc !== 'object' || Array.isArray(doc)) throw new Error('root must be an object');
  const aws = doc._aws as Record<string, unknown> | undefined;
  if (aws === undefined || aws === null || typeof aws !== 'object') throw new Error('_aws metadata object missing');
  // Metadata: Timestamp, milliseconds since the epoch (a number).
  if (typeof aws.Timestamp !== 'number' || !Number.isInteger(aws.Timestamp)) throw new Error('_aws.Timestamp must be an integer number of milliseconds');
  if (!Array.isArray(aws.CloudWatchMetrics)) throw new Error('_aws.CloudWatchMetrics must be an array');
  for (const directive of aws.CloudWatchMetrics as Array<Record<string, unknown>>) {
    const ns = directive.Namespace;
    if (typeof ns !== 'string' || ns.length < 1 || ns.length > 255) throw new Error('Namespace must be a string of 1 to 255 characters');
    if (!Array.isArray(directive.Dimensions)) throw new Error('Dimensions must be an array of dimension sets');
    for (const set of directive.Dimensions as unknown[]) {
      // DimensionSet: an array of at most 30 dimension keys, each a target member of the root whose value is a string.
      if (!Array.isArray(set) || set.length > 30) throw new Error('a DimensionSet is an array of at most 30 keys');
      for (const key of set) {
        if (typeof key !== 'string') throw new Error('a dimension key must be a string');
        if (typeof doc[key] !== 'string') throw new Error(`dimension ${key} must be a string member of the root`);
        const value = doc[key] as string;
        if (value.length < 1 || value.length > 1024) throw new Error(`dimension ${key} value must be 1 to 1024 characters`);
      }
    }
    if (!Array.isArray(directive.Metrics) || directive.Metrics.length > 100) throw new Error('Metrics must be an array of at most 100 definitions');
    for (const def of directive.Metrics as Array<Record<string, unknown>>) {
      if (typeof def.Name !== 'string' || def.Name.length < 1 || def.Name.length > 255) throw new Error('a MetricDefinition needs a Name of 1 to 255 characters');
      if (def.Unit !== undefined && !UNITS.has(def.Unit as string)) throw new Error(`unit ${String(def.Unit)} is not a CloudWatch unit`);
      const value = doc[def.Name];
      // Metric target members: a number, or an array of numbers (at most 100).
      const numbers = Array.isArray(value) ? value : [value];
      if (numbers.length === 0 || numbers.length > 100 || numbers.some((v) => typeof v !== 'number' || !Number.isFinite(v))) {
        throw new Error(`metric ${def.Name} must be a number member of the root`);
      }
    }
  }
  return doc as EmfDocument;
}

/** The datapoints one EMF document yields: per metric and dimension set, the dimensions and the value. */
export function datapoints(doc: EmfDocument): Array<{ namespace: string; metric: string; unit?: string; dimensions: Record<string, string>; value: number }> {
  const out = [];
  for (const directive of doc._aws.CloudWatchMetrics) {
    for (const set of directive.Dimensions) {
      const dimensions = Object.fromEntries(set.map((k) => [k, doc[k] as string]));
      for (const def of directive.Metrics) out.push({ namespace: directive.Namespace, metric: def.Name, unit: def.Unit, dimensions, value: doc[def.Name] as number });
    }
  }
  return out;
}
