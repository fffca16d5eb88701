import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { checkpoint, validateOutput, withCheckpoint, withCheckpointSync, type CheckpointResult } from '../../lib/runtime';
import { parseEmf } from './emf';

interface AgentState {
  step: number;
  messages: Array<{ role: string; text: string }>;
  plan: { goals: string[]; done: Set<string> };
  output?: { answer: string; confidence: number };
  startedAt: Date;
  cache: Map<string, number[]>;
}

function initialState(): AgentState {
  return {
    step: 1,
    messages: [{ role: 'user', text: 'refund order 42?' }],
    plan: { goals: ['look up order', 'check policy'], done: new Set(['look up order']) },
    startedAt: new Date('2025-01-01T00:00:00Z'),
    cache: new Map([['order:42', [1, 2, 3]]]),
  };
}

const OUTPUT_SCHEMA = {
  type: 'object',
  required: ['output'],
  properties: {
    output: { type: 'object', required: ['answer', 'confidence'], properties: { answer: { type: 'string' }, confidence: { type: 'number' } } },
  },
};

/** A step that mutates most of the state, then fails the way asked. */
function mutateThen(failure: () => void) {
  return (draft: AgentState) => {
    draft.step++;
    draft.messages.push({ role: 'assistant', text: 'partial' });
    draft.messages[0].text = 'overwritten';
    draft.plan.done.add('check policy');
    draft.plan.goals.length = 0;
    draft.startedAt.setUTCFullYear(1999);
    draft.cache.get('order:42')!.push(4);
    draft.cache.delete('order:42');
    failure();
  };
}

function expectRestored(result: CheckpointResult<AgentState>, original: AgentState) {
  expect(result.ok).toBe(false);
  expect(result.state).toEqual(initialState());
  // The caller's state is untouched, and the checkpoint does not alias it.
  expect(original).toEqual(initialState());
  expect(result.state).not.toBe(original);
  expect(result.state.messages).not.toBe(original.messages);
  expect(result.state.cache.get('order:42')).not.toBe(original.cache.get('order:42'));
}

describe('checkpoint', () => {
  it('is a deep copy: nested objects, arrays, Date, Map and Set are copied, not shared', () => {
    const original = initialState();
    const copy = checkpoint(original);
    expect(copy).toEqual(original);
    copy.messages[0].text = 'changed';
    copy.plan.done.add('x');
    copy.startedAt.setUTCFullYear(2000);
    copy.cache.get('order:42')!.push(99);
    expect(original).toEqual(initialState());
    // And the other way: changing the original after the checkpoint does not change the checkpoint.
    const second = checkpoint(original);
    original.messages.push({ role: 'tool', text: 'later' });
    expect(second.messages).toHaveLength(1);
  });

  it('copies cycles', () => {
    const a: { self?: unknown; n: number } = { n: 1 };
    a.self = a;
    const copy = checkpoint(a);
    expect(copy.self).toBe(copy);
    expect(copy).not.toBe(a);
  });

  it('rejects what structuredClone cannot copy, with a TypeError that says what to keep', () => {
    expect(() => checkpoint({ tool: () => 1 })).toThrow(TypeError);
    expect(() => checkpoint({ tool: () => 1 })).toThrow(/cannot be deep-copied with structuredClone .*plain data/);
  });
});

describe('withCheckpoint: a failed step leaves the state as it was', () => {
  it('restores after a sync step throws midway', async () => {
    const original = initialState();
    const error = new Error('tool timed out');
    const result = await withCheckpoint(original, mutateThen(() => { throw error; }));
    expectRestored(result, original);
    expect(result).toMatchObject({ reason: 'step threw: tool timed out', error });
  });

  it('restores after an async step throws after an await', async () => {
    const original = initialState();
    const result = await withCheckpoint(original, async (draft) => {
      draft.step = 99;
      await new Promise((r) => setTimeout(r, 5));
      mutateThen(() => { throw new Error('model returned 500'); })(draft);
    });
    expectRestored(result, original);
    expect(!result.ok && result.reason).toBe('step threw: model returned 500');
  });

  it('restores when a predicate rejects the new state', async () => {
    const original = initialState();
    const result = await withCheckpoint(original, (draft) => { draft.step = 2; draft.messages.push({ role: 'assistant', text: '???' }); }, (s) => s.messages.at(-1)!.text !== '???');
    expectRestored(result, original);
    expect(!result.ok && result.reason).toBe('validation failed');
  });

  it('restores when the new state fails a JSON schema, and lists the mismatches', async () => {
    const original = initialState();
    const result = await withCheckpoint(original, (draft) => { draft.output = { answer: 42 as unknown as string, confidence: 0.9 }; }, OUTPUT_SCHEMA);
    expectRestored(result, original);
    expect(result).toMatchObject({ reason: 'validation failed: /output/answer must be string', errors: [{ path: '/output/answer', keyword: 'type' }] });
  });

  it('restores when an async predicate says no, or returns a validateOutput result', async () => {
    const original = initialState();
    const asyncNo = await withCheckpoint(original, async (d) => { d.step = 3; }, async () => false);
    expectRestored(asyncNo, original);
    const schemaVerdict = await withCheckpoint(original, (d) => { d.output = { answer: 'x' } as AgentState['output']; }, (s) => validateOutput(OUTPUT_SCHEMA, s));
    expectRestored(schemaVerdict, original);
    expect(!schemaVerdict.ok && schemaVerdict.reason).toBe("validation failed: /output must have required property 'confidence'");
  });

  it('restores when the predicate throws, and says so', async () => {
    const original = initialState();
    const result = await withCheckpoint(original, (d) => { d.output = undefined; }, (s) => s.output!.answer.length > 0);
    expectRestored(result, original);
    expect(!result.ok && result.reason).toMatch(/^validate threw: Cannot read properties of undefined/);
  });

  it('returns the state as it was when the step started, even if the caller changes its own copy meanwhile', async () => {
    const original = initialState();
    let release!: () => void;
    const pending = withCheckpoint(original, async () => {
      await new Promise<void>((r) => (release = r));
      throw new Error('late failure');
    });
    original.step = 500;
    release();
    const result = await pending;
    expect(result.ok).toBe(false);
    expect(result.state.step).toBe(1);
  });

  it('is idempotent: the same failing step gives the same checkpoint every time', async () => {
    const original = initialState();
    const step = mutateThen(() => { throw new Error('again'); });
    const first = await withCheckpoint(original, step);
    const second = await withCheckpoint(first.state, step);
    const third = await withCheckpoint(original, step);
    expect(second.state).toEqual(first.state);
    expect(third).toEqual(first);
    expect(original).toEqual(initialState());
  });
});

describe('withCheckpoint: a good step is kept', () => {
  it('keeps a mutated draft (the step returns nothing)', async () => {
    const original = initialState();
    const result = await withCheckpoint(original, (draft) => { draft.output = { answer: 'yes', confidence: 0.9 }; draft.step++; }, OUTPUT_SCHEMA);
    expect(result.ok).toBe(true);
    expect(result.state).toMatchObject({ step: 2, output: { answer: 'yes', confidence: 0.9 } });
    expect(original).toEqual(initialState());
    // No aliasing with the caller's state either way.
    result.state.messages.push({ role: 'x', text: 'y' });
    expect(original.messages).toHaveLength(1);
  });

  it('keeps a returned new state (async)', async () => {
    const result = await withCheckpoint({ n: 1 }, async (draft) => ({ n: draft.n + 1 }), (s) => s.n === 2);
    expect(result).toEqual({ ok: true, state: { n: 2 } });
  });

  it('keeps a falsy returned state (0, null, empty string) rather than the draft', async () => {
    expect((await withCheckpoint(5, () => 0)).state).toBe(0);
    expect(withCheckpointSync<string | null>('a', () => null).state).toBe(null);
  });
});

describe('withCheckpointSync', () => {
  it('has the same contract without a Promise', () => {
    const original = initialState();
    const failed = withCheckpointSync(original, mutateThen(() => { throw new Error('boom'); }));
    expectRestored(failed, original);
    const invalid = withCheckpointSync(original, (d) => { d.output = { answer: 1 } as never; }, OUTPUT_SCHEMA);
    expectRestored(invalid, original);
    const kept = withCheckpointSync(original, (d) => { d.output = { answer: 'ok', confidence: 1 }; }, OUTPUT_SCHEMA);
    expect(kept.ok && kept.state.output).toEqual({ answer: 'ok', confidence: 1 });
  });

  it('refuses async steps and predicates with a TypeError, and leaves no unhandled rejection', async () => {
    const unhandled = vi.fn();
    process.on('unhandledRejection', unhandled);
    try {
      expect(() => withCheckpointSync({ n: 1 }, (async () => { throw new Error('x'); }) as never)).toThrow(/the step returned a Promise: use withCheckpoint/);
      expect(() => withCheckpointSync({ n: 1 }, () => undefined, (async () => false) as never)).toThrow(/validate returned a Promise: use withCheckpoint/);
      await new Promise((r) => setTimeout(r, 20));
      expect(unhandled).not.toHaveBeenCalled();
    } finally {
      process.off('unhandledRejection', unhandled);
    }
  });
});

describe('withCheckpoint: misuse fails before the step runs', () => {
  const lambdaVersion = process.env.AWS_LAMBDA_FUNCTION_VERSION;
  beforeEach(() => {
    delete process.env.AWS_LAMBDA_FUNCTION_VERSION;
  });
  afterEach(() => {
    if (lambdaVersion !== undefined) process.env.AWS_LAMBDA_FUNCTION_VERSION = lambdaVersion;
  });

  it.each([
    ['a step that is not a function', [{}, 'step'], /step must be a function/],
    ['a validate that is an array', [{}, () => undefined, []], /validate must be a JSON Schema object or a predicate/],
    ['a schema that does not compile', [{}, () => undefined, { type: 'nope' }], /schema does not compile/],
    ['a bad record threshold', [{}, () => undefined, undefined, { record: { service: 's', version: '1', threshold: 7, confidence: (): number => 1 } }], /record.threshold must be a finite number from 0 to 1, got 7/],
    ['a record without a service', [{}, () => undefined, undefined, { record: { version: '1', confidence: (): number => 1 } }], /record.service must be a string/],
    ['a record without a version outside Lambda', [{}, () => undefined, undefined, { record: { service: 's', confidence: (): number => 1 } }], /record.version is required outside AWS Lambda/],
    ['a record without a confidence reader', [{}, () => undefined, undefined, { record: { service: 's', version: '1' } }], /record.confidence must be a function/],
  ])('%s', async (_, args, message) => {
    const spy = vi.fn();
    const [state, step, ...rest] = args as [unknown, unknown, ...unknown[]];
    const wrapped = typeof step === 'function' ? (d: unknown) => { spy(); return (step as (d: unknown) => unknown)(d); } : step;
    await expect(withCheckpoint(state, wrapped as never, ...(rest as [never, never]))).rejects.toThrow(message);
    expect(() => withCheckpointSync(state, wrapped as never, ...(rest as [never, never]))).toThrow(message);
    expect(spy).not.toHaveBeenCalled();
  });

  it('throws when a predicate returns something other than a boolean or { valid }', async () => {
    await expect(withCheckpoint({}, () => undefined, (() => 'yes') as never)).rejects.toThrow(/validate must return a boolean or \{ valid, errors \}, got string/);
  });
});

describe('withCheckpoint: recording evaluations', () => {
  const record = (lines: string[], threshold?: number) => ({
    service: 'triage-agent',
    version: '8',
    threshold,
    sink: (l: string) => lines.push(l),
    confidence: (s: AgentState) => s.output!.confidence,
  });

  it('records a good step as a good evaluation and keeps it', async () => {
    const lines: string[] = [];
    const result = await withCheckpoint(initialState(), (d) => { d.output = { answer: 'yes', confidence: 0.92 }; }, OUTPUT_SCHEMA, { record: record(lines) });
    expect(result.ok).toBe(true);
    expect(result.evaluation).toMatchObject({ bad: false });
    expect(lines.map(parseEmf)).toMatchObject([{ Service: 'triage-agent', Version: '8', Evaluations: 1, BadEvaluations: 0, SchemaInvalid: 0, LowConfidence: 0, Confidence: 0.92 }]);
  });

  it('treats a confidence below the threshold as a failed step: back to the checkpoint, counted as low confidence', async () => {
    const lines: string[] = [];
    const original = initialState();
    const result = await withCheckpoint(original, (d) => { d.step = 2; d.output = { answer: 'maybe', confidence: 0.55 }; }, OUTPUT_SCHEMA, { record: record(lines) });
    expectRestored(result, original);
    expect(!result.ok && result.reason).toBe('confidence 0.55 is below the threshold 0.7');
    expect(lines.map(parseEmf)).toMatchObject([{ BadEvaluations: 1, LowConfidence: 1, SchemaInvalid: 0, Confidence: 0.55 }]);
  });

  it('counts a schema failure as schema invalid', async () => {
    const lines: string[] = [];
    const result = await withCheckpoint(initialState(), (d) => { d.output = { answer: 1, confidence: 0.99 } as never; }, OUTPUT_SCHEMA, { record: record(lines) });
    expect(result.ok).toBe(false);
    expect(result.evaluation).toMatchObject({ bad: true, schemaInvalid: true, lowConfidence: false });
    expect(lines.map(parseEmf)).toMatchObject([{ BadEvaluations: 1, SchemaInvalid: 1, LowConfidence: 0, Confidence: 0.99 }]);
  });

  it('counts a step that throws as bad, with confidence 0', async () => {
    const lines: string[] = [];
    const result = await withCheckpoint(initialState(), async () => { throw new Error('tool failed'); }, OUTPUT_SCHEMA, { record: record(lines) });
    expect(result.ok).toBe(false);
    expect(lines.map(parseEmf)).toMatchObject([{ Evaluations: 1, BadEvaluations: 1, SchemaInvalid: 1, LowConfidence: 1, Confidence: 0 }]);
  });

  it('counts an unreadable confidence as 0 and fails the step', async () => {
    const lines: string[] = [];
    const result = await withCheckpoint(initialState(), (d) => { d.output = { answer: 'yes', confidence: 87 }; }, OUTPUT_SCHEMA, { record: record(lines) });
    expect(!result.ok && result.reason).toMatch(/^confidence unreadable, counted as 0: record.confidence\(state\) must be a finite number from 0 to 1, got 87/);
    expect(lines.map(parseEmf)).toMatchObject([{ BadEvaluations: 1, LowConfidence: 1, SchemaInvalid: 0, Confidence: 0 }]);
  });

  it('uses the threshold given, and the sync variant records too', () => {
    const lines: string[] = [];
    const result = withCheckpointSync(initialState(), (d) => { d.output = { answer: 'yes', confidence: 0.55 }; }, undefined, { record: record(lines, 0.5) });
    expect(result.ok).toBe(true);
    expect(lines.map(parseEmf)).toMatchObject([{ BadEvaluations: 0, Confidence: 0.55 }]);
  });
});

describe('withCheckpoint: property', () => {
  /** Mutates a JSON value in place along random choices: sets, deletes, pushes, pops, nested. */
  function scramble(value: unknown, choices: number[], depth = 0): void {
    if (value === null || typeof value !== 'object' || depth > 6) return;
    for (const c of choices.splice(0, 3)) {
      if (Array.isArray(value)) {
        if (c % 4 === 0) value.push(c);
        else if (c % 4 === 1) value.pop();
        else if (value.length > 0) {
          const i = c % value.length;
          if (c % 4 === 2) value[i] = { replaced: c };
          else scramble(value[i], choices, depth + 1);
        }
      } else {
        const obj = value as Record<string, unknown>;
        const keys = Object.keys(obj);
        if (c % 4 === 0) obj[`k${c}`] = [c];
        else if (c % 4 === 1 && keys.length > 0) delete obj[keys[c % keys.length]];
        else if (keys.length > 0) {
          const k = keys[c % keys.length];
          if (c % 4 === 2) obj[k] = c;
          else scramble(obj[k], choices, depth + 1);
        }
      }
    }
  }

  const NO_MARKER = { type: 'object', not: { type: 'object', required: ['__marker'] } };

  it('a failing step never changes the returned state or the caller\'s, however it mutates the draft', async () => {
    const failure = fc.constantFrom('throw', 'async-throw', 'invalid', 'async-invalid', 'schema', 'low-confidence', 'sync-throw', 'sync-invalid');
    await fc.assert(
      fc.asyncProperty(fc.dictionary(fc.string({ maxLength: 5 }), fc.jsonValue({ maxDepth: 4 })), fc.array(fc.nat(), { maxLength: 40 }), failure, async (state, choices, how) => {
        const before = JSON.stringify(state);
        const step = (draft: Record<string, unknown>) => {
          scramble(draft, [...choices]);
          draft.__marker = 'mutated';
          if (how.includes('throw')) throw new Error('fail');
          return how === 'low-confidence' ? { ...draft, confidence: 0.1 } : undefined;
        };
        const asyncStep = async (draft: Record<string, unknown>) => {
          await Promise.resolve();
          return step(draft);
        };
        let result: CheckpointResult<Record<string, unknown>>;
        if (how === 'sync-throw' || how === 'sync-invalid') result = withCheckpointSync(state, step, () => false);
        else if (how === 'schema') result = await withCheckpoint(state, step, NO_MARKER);
        else if (how === 'low-confidence') {
          result = await withCheckpoint(state, step, undefined, { record: { service: 's', version: '1', sink: () => undefined, confidence: (s) => s.confidence as number } });
        } else result = await withCheckpoint(state, how.startsWith('async') ? asyncStep : step, () => false);
        expect(result.ok).toBe(false);
        expect(JSON.stringify(result.state)).toBe(before);
        expect(JSON.stringify(state)).toBe(before);
      }),
      { numRuns: 300 },
    );
  });
});
