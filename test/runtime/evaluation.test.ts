import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { AGENT_DIMENSIONS, AGENT_METRICS, DEFAULT_AGENT_NAMESPACE, DEFAULT_CONFIDENCE_THRESHOLD, recordEvaluation } from '../../lib/runtime';
import { datapoints, parseEmf } from './emf';

/** Records one evaluation into an array and returns the parsed document. */
function record(input: Parameters<typeof recordEvaluation>[0]) {
  const lines: string[] = [];
  const result = recordEvaluation({ ...input, sink: (line) => lines.push(line) });
  expect(lines).toHaveLength(1);
  expect(result.line).toBe(lines[0]);
  return { result, doc: parseEmf(lines[0]) };
}

const ORIGINAL_VERSION = process.env.AWS_LAMBDA_FUNCTION_VERSION;

beforeEach(() => {
  delete process.env.AWS_LAMBDA_FUNCTION_VERSION;
});
afterEach(() => {
  if (ORIGINAL_VERSION === undefined) delete process.env.AWS_LAMBDA_FUNCTION_VERSION;
  else process.env.AWS_LAMBDA_FUNCTION_VERSION = ORIGINAL_VERSION;
  vi.useRealTimers();
  vi.restoreAllMocks();
});

describe('recordEvaluation: the EMF line', () => {
  it('is a valid EMF document with the contract metrics under [Service, Version] and [Service]', () => {
    vi.useFakeTimers({ toFake: ['Date'] });
    vi.setSystemTime(new Date('2025-03-01T12:00:00Z'));
    const { doc } = record({ confidence: 0.42, schemaValid: true, service: 'triage-agent', version: '17' });

    expect(doc._aws.Timestamp).toBe(Date.parse('2025-03-01T12:00:00Z'));
    expect(doc._aws.CloudWatchMetrics).toEqual([
      {
        Namespace: 'RollbackTriggers/Agent',
        Dimensions: [['Service', 'Version'], ['Service']],
        Metrics: [
          { Name: 'Evaluations', Unit: 'Count' },
          { Name: 'BadEvaluations', Unit: 'Count' },
          { Name: 'LowConfidence', Unit: 'Count' },
          { Name: 'SchemaInvalid', Unit: 'Count' },
          { Name: 'Confidence', Unit: 'None' },
        ],
      },
    ]);
    expect(doc).toMatchObject({ Service: 'triage-agent', Version: '17', Evaluations: 1, BadEvaluations: 1, LowConfidence: 1, SchemaInvalid: 0, Confidence: 0.42 });
    // No other members: in particular not Powertools' lower-case `service` default dimension.
    expect(Object.keys(doc).sort()).toEqual(['BadEvaluations', 'Confidence', 'Evaluations', 'LowConfidence', 'SchemaInvalid', 'Service', 'Version', '_aws']);
  });

  it('yields per-version and blended datapoints, which is what the SLI reads', () => {
    const { doc } = record({ confidence: 0.9, schemaValid: false, service: 'triage-agent', version: '3' });
    const points = datapoints(doc);
    const bad = points.filter((p) => p.metric === AGENT_METRICS.BAD_EVALUATIONS);
    expect(bad).toEqual([
      { namespace: DEFAULT_AGENT_NAMESPACE, metric: 'BadEvaluations', unit: 'Count', dimensions: { Service: 'triage-agent', Version: '3' }, value: 1 },
      { namespace: DEFAULT_AGENT_NAMESPACE, metric: 'BadEvaluations', unit: 'Count', dimensions: { Service: 'triage-agent' }, value: 1 },
    ]);
    expect(points.filter((p) => p.metric === AGENT_METRICS.EVALUATIONS).map((p) => p.value)).toEqual([1, 1]);
    expect(AGENT_DIMENSIONS).toEqual({ SERVICE: 'Service', VERSION: 'Version' });
  });

  it('uses the namespace and threshold given', () => {
    const { doc, result } = record({ confidence: 0.85, service: 's', version: 'v1', namespace: 'Acme/Agents', threshold: 0.9 });
    expect(doc._aws.CloudWatchMetrics[0].Namespace).toBe('Acme/Agents');
    expect(result).toMatchObject({ bad: true, lowConfidence: true, schemaInvalid: false, version: 'v1' });
  });

  it('keeps no state between calls: namespaces, services and versions do not leak into the next line', () => {
    const a1 = record({ confidence: 0.1, service: 'a', version: '1', namespace: 'NsA' }).doc;
    const b = record({ confidence: 0.9, service: 'b', version: '2', namespace: 'NsB', schemaValid: false }).doc;
    const a2 = record({ confidence: 0.95, service: 'a', version: '1', namespace: 'NsA' }).doc;
    expect(a1).toMatchObject({ Service: 'a', Version: '1', BadEvaluations: 1, LowConfidence: 1, SchemaInvalid: 0 });
    expect(b).toMatchObject({ Service: 'b', Version: '2', BadEvaluations: 1, LowConfidence: 0, SchemaInvalid: 1 });
    expect(b._aws.CloudWatchMetrics[0].Namespace).toBe('NsB');
    expect(a2).toMatchObject({ Service: 'a', Version: '1', BadEvaluations: 0, LowConfidence: 0, SchemaInvalid: 0, Confidence: 0.95 });
    expect(a2._aws.CloudWatchMetrics[0].Dimensions).toEqual([['Service', 'Version'], ['Service']]);
  });

  it('goes to standard output by default, written directly rather than through console.log, with no warnings', () => {
    const write = vi.spyOn(process.stdout, 'write').mockImplementation(() => true);
    const log = vi.spyOn(console, 'log');
    const warn = vi.spyOn(console, 'warn');
    recordEvaluation({ confidence: 0.8, service: 'svc', version: '5' });
    expect(write).toHaveBeenCalledTimes(1);
    const text = String(write.mock.calls[0][0]);
    expect(text.endsWith('\n')).toBe(true);
    expect(parseEmf(text.slice(0, -1))).toMatchObject({ Service: 'svc', Version: '5', BadEvaluations: 0 });
    expect(log).not.toHaveBeenCalled();
    expect(warn).not.toHaveBeenCalled();
  });
});

describe('recordEvaluation: what counts as bad', () => {
  it.each([
    // confidence, schemaValid, threshold, bad, low, invalid
    [0.69, undefined, undefined, true, true, false],
    [0.7, undefined, undefined, false, false, false], // strictly below the threshold is bad
    [0.99, false, undefined, true, false, true],
    [0.99, true, undefined, false, false, false],
    [0.2, false, undefined, true, true, true], // both: still one bad evaluation
    [0, undefined, 0, false, false, false], // threshold 0: nothing is low
    [0.999, undefined, 1, true, true, false],
    [1, undefined, 1, false, false, false],
  ] as const)('confidence %s, schemaValid %s, threshold %s → bad %s', (confidence, schemaValid, threshold, bad, low, invalid) => {
    const { doc, result } = record({ confidence, schemaValid, threshold, service: 'svc', version: '1' });
    expect(result).toMatchObject({ bad, lowConfidence: low, schemaInvalid: invalid });
    expect(doc).toMatchObject({ Evaluations: 1, BadEvaluations: bad ? 1 : 0, LowConfidence: low ? 1 : 0, SchemaInvalid: invalid ? 1 : 0, Confidence: confidence });
  });

  it('defaults the threshold to 0.7', () => {
    expect(DEFAULT_CONFIDENCE_THRESHOLD).toBe(0.7);
  });

  it('always writes a valid document whose bad flag is (confidence < threshold) or schema invalid (property)', () => {
    const dimensionValue = fc.string({ minLength: 1, maxLength: 40, unit: fc.constantFrom(...'abcXYZ019-_.:/$# ') }).filter((s) => s.trim() !== '');
    fc.assert(
      fc.property(
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        fc.option(fc.boolean(), { nil: undefined }),
        dimensionValue,
        dimensionValue,
        (confidence, threshold, schemaValid, service, version) => {
          const { doc, result } = record({ confidence, threshold, schemaValid, service, version });
          const bad = confidence < threshold || schemaValid === false;
          expect(result.bad).toBe(bad);
          expect(doc.BadEvaluations).toBe(bad ? 1 : 0);
          expect(doc.Evaluations).toBe(1);
          expect(doc.Confidence).toBe(confidence);
          expect(doc).toMatchObject({ Service: service, Version: version });
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe('recordEvaluation: the version', () => {
  it('defaults to the executed Lambda version (AWS_LAMBDA_FUNCTION_VERSION)', () => {
    process.env.AWS_LAMBDA_FUNCTION_VERSION = '12';
    const { doc, result } = record({ confidence: 0.9, service: 'svc' });
    expect(doc.Version).toBe('12');
    expect(result.version).toBe('12');
  });

  it('writes $LATEST as it is when the function runs unpublished', () => {
    process.env.AWS_LAMBDA_FUNCTION_VERSION = '$LATEST';
    expect(record({ confidence: 0.9, service: 'svc' }).doc.Version).toBe('$LATEST');
  });

  it('prefers the version given (ECS: the task definition revision or the image tag)', () => {
    process.env.AWS_LAMBDA_FUNCTION_VERSION = '12';
    expect(record({ confidence: 0.9, service: 'svc', version: 'agent:42' }).doc.Version).toBe('agent:42');
  });

  it('is required outside Lambda, and the error says what to pass', () => {
    const sink = vi.fn();
    expect(() => recordEvaluation({ confidence: 0.9, service: 'svc', sink })).toThrow(TypeError);
    expect(() => recordEvaluation({ confidence: 0.9, service: 'svc', sink })).toThrow(/version is required outside AWS Lambda.*task definition revision or the image tag/);
    expect(sink).not.toHaveBeenCalled();
  });
});

describe('recordEvaluation: bad input is rejected before anything is written', () => {
  const base = { confidence: 0.5, service: 'svc', version: '1' };
  it.each([
    [{ confidence: Number.NaN }, RangeError, /confidence must be a finite number from 0 to 1, got NaN/],
    [{ confidence: 1.01 }, RangeError, /confidence must be a finite number from 0 to 1, got 1.01/],
    [{ confidence: -0.1 }, RangeError, /confidence .* got -0.1/],
    [{ confidence: Number.POSITIVE_INFINITY }, RangeError, /confidence .* got Infinity/],
    [{ confidence: '0.9' }, TypeError, /confidence must be a number from 0 to 1, got "0.9"/],
    [{ confidence: undefined }, TypeError, /confidence must be a number/],
    [{ threshold: 70 }, RangeError, /threshold must be a finite number from 0 to 1, got 70/],
    [{ threshold: Number.NaN }, RangeError, /threshold/],
    [{ schemaValid: 'yes' }, TypeError, /schemaValid must be true, false or undefined, got "yes"/],
    [{ service: '' }, RangeError, /service must be 1 to 1024 characters, got 0/],
    [{ service: '   ' }, RangeError, /service must contain a non-whitespace character/],
    [{ service: 'agént' }, RangeError, /service must contain only printable ASCII characters/],
    [{ service: 'a\nb' }, RangeError, /service must contain only printable ASCII/],
    [{ service: 'x'.repeat(1025) }, RangeError, /service must be 1 to 1024 characters, got 1025/],
    [{ service: 42 }, TypeError, /service must be a string, got number 42/],
    [{ version: '' }, RangeError, /version must be 1 to 1024 characters/],
    [{ version: 7 }, TypeError, /version must be a string, got number 7/],
    [{ namespace: 'AWS/Agent' }, RangeError, /namespace must not start with "AWS\/"/],
    [{ namespace: ':agents' }, RangeError, /namespace must not start with ':'/],
    [{ namespace: 'n'.repeat(256) }, RangeError, /namespace must be 1 to 255 characters, got 256/],
    [{ namespace: '' }, RangeError, /namespace must be 1 to 255 characters/],
    [{ sink: 'stdout' }, TypeError, /sink must be a function/],
  ])('%j', (patch, errorClass, message) => {
    const lines: string[] = [];
    const input = { sink: (l: string) => lines.push(l), ...base, ...patch } as unknown as Parameters<typeof recordEvaluation>[0];
    expect(() => recordEvaluation(input)).toThrow(errorClass);
    expect(() => recordEvaluation(input)).toThrow(message);
    expect(lines).toEqual([]);
  });

  it('rejects a missing input object', () => {
    expect(() => recordEvaluation(undefined as never)).toThrow(/needs an object with at least \{ confidence, service \}/);
  });
});
