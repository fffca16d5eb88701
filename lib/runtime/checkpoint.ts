import { checkUnitInterval, recordWith, resolveSettings, resolveVersion, type EvaluationInput, type EvaluationRecord, type RecorderSettings } from './evaluation';
import { formatValidationErrors, outputValidator, type OutputValidation, type OutputValidationError } from './schema';

// Checkpoints for an agent's state: a step runs on a deep copy, and its result is kept only when
// it returns and validates. A failed step's mutations stay on the discarded copy, so the state the
// caller holds is never partly updated.

/**
 * One step of the agent: receives a deep copy of the state, may mutate it and return nothing, or
 * return the new state. May be async (with `withCheckpoint`).
 */
export type CheckpointStep<T> = (draft: T) => T | void | Promise<T | void>;

/** A synchronous step, for `withCheckpointSync`. */
export type CheckpointStepSync<T> = (draft: T) => T | void;

/** The verdict of a predicate: a boolean, or a `validateOutput` result. */
export type CheckpointVerdict = boolean | OutputValidation;

/**
 * What decides whether a step's new state is kept: a JSON Schema object (checked with
 * `validateOutput`) or a predicate returning a boolean or `{ valid, errors }` (may be async with
 * `withCheckpoint`).
 */
export type CheckpointValidate<T> = object | ((state: T) => CheckpointVerdict | Promise<CheckpointVerdict>);

/** Records an evaluation for every step (see `recordEvaluation`). */
export interface CheckpointRecordOptions<T> extends Omit<EvaluationInput, 'confidence' | 'schemaValid'> {
  /**
   * Reads the agent's confidence from the step's new state. A confidence below the threshold
   * fails the step (the state returns to the checkpoint) like a failed validation; one that cannot
   * be read (the function throws, or returns no number from 0 to 1) counts as 0.
   */
  readonly confidence: (state: T) => number;
}

/** Options of `withCheckpoint` and `withCheckpointSync`. */
export interface CheckpointOptions<T> {
  /**
   * Record one evaluation per step: on success with the confidence read from the new state and
   * `schemaValid: true`; on a failed validation with `schemaValid: false`; on a step that throws
   * with confidence 0 and `schemaValid: false` (it produced nothing to trust).
   * @default - nothing recorded
   */
  readonly record?: CheckpointRecordOptions<T>;
}

/** The step's new state was kept. */
export interface CheckpointSuccess<T> {
  readonly ok: true;
  /** The new state: what the step returned, else the copy it mutated. */
  readonly state: T;
  /** The evaluation written, when `record` was given. */
  readonly evaluation?: EvaluationRecord;
}

/** The step failed: the state is the checkpoint, as it was before the step. */
export interface CheckpointFailure<T> {
  readonly ok: false;
  /** A deep copy of the state taken before the step ran. */
  readonly state: T;
  /** Why, in one line: "step threw: …", "validation failed: …", "validate threw: …", "confidence … is below the threshold …". */
  readonly reason: string;
  /** What the step (or the predicate) threw, if it threw. */
  readonly error?: unknown;
  /** The schema mismatches, if the validation failed with errors. */
  readonly errors?: readonly OutputValidationError[];
  /** The evaluation written, when `record` was given. */
  readonly evaluation?: EvaluationRecord;
}

export type CheckpointResult<T> = CheckpointSuccess<T> | CheckpointFailure<T>;

/**
 * A deep copy of the agent's state (structuredClone): plain data, arrays, Date, Map, Set, typed
 * arrays and cycles are copied; class instances come back as plain objects. Throws a TypeError
 * for what cannot be copied (functions, symbols as values, DOM-like handles).
 */
export function checkpoint<T>(state: T): T {
  try {
    return structuredClone(state);
  } catch (err) {
    throw new TypeError(
      `checkpoint: the state cannot be deep-copied with structuredClone (${err instanceof Error ? err.message : String(err)}): ` +
        'keep the agent state to plain data (objects, arrays, strings, numbers, booleans, null, Date, Map, Set)',
    );
  }
}

interface Run<T> {
  readonly snapshot: T;
  readonly draft: T;
  /** The compiled schema, when `validate` is a schema object. */
  readonly schema?: (value: unknown) => OutputValidation;
  readonly settings?: RecorderSettings;
  readonly confidence?: (state: T) => number;
}

type Outcome<T> = { readonly threw: true; readonly error: unknown } | { readonly threw: false; readonly state: T };

function begin<T>(name: string, state: T, step: unknown, validate: unknown, options: CheckpointOptions<T> | undefined): Run<T> {
  if (typeof step !== 'function') throw new TypeError(`${name}: step must be a function (draft) => newState | void, got ${step === null ? 'null' : typeof step}`);
  if (validate !== undefined && typeof validate !== 'function' && (validate === null || typeof validate !== 'object' || Array.isArray(validate))) {
    throw new TypeError(`${name}: validate must be a JSON Schema object or a predicate (state) => boolean, got ${validate === null ? 'null' : Array.isArray(validate) ? 'an array' : typeof validate}`);
  }
  if (options !== undefined && (options === null || typeof options !== 'object')) throw new TypeError(`${name}: options must be an object, got ${options === null ? 'null' : typeof options}`);
  // Misconfiguration fails before the step runs, not after it has done its work.
  let settings: RecorderSettings | undefined;
  let confidence: ((state: T) => number) | undefined;
  if (options?.record !== undefined) {
    settings = resolveSettings(options.record, 'record.');
    resolveVersion(settings.version, 'record.version');
    confidence = options.record.confidence;
    if (typeof confidence !== 'function') throw new TypeError(`${name}: record.confidence must be a function (state) => number from 0 to 1, got ${typeof confidence}`);
  }
  // A schema that does not compile is an error now, before the step has done its work.
  const schema = validate !== undefined && typeof validate !== 'function' ? outputValidator(validate as object) : undefined;
  // Two copies: the checkpoint returned on failure, and the draft the step may mutate. The
  // checkpoint is taken now, so a caller that mutates its own `state` while an async step runs
  // does not change what a failure returns.
  return { snapshot: checkpoint(state), draft: checkpoint(state), schema, settings, confidence };
}

function verdictOf(name: string, verdict: unknown): OutputValidation {
  if (typeof verdict === 'boolean') return { valid: verdict, errors: [] };
  if (verdict !== null && typeof verdict === 'object' && typeof (verdict as OutputValidation).valid === 'boolean') {
    const errors = (verdict as OutputValidation).errors;
    return { valid: (verdict as OutputValidation).valid, errors: Array.isArray(errors) ? errors : [] };
  }
  throw new TypeError(`${name}: validate must return a boolean or { valid, errors }, got ${verdict === null ? 'null' : typeof verdict}`);
}

type Checked = { readonly passed: true } | { readonly passed: false; readonly reason: string; readonly error?: unknown; readonly errors?: readonly OutputValidationError[] };

function checkedOf(verdict: OutputValidation): Checked {
  if (verdict.valid) return { passed: true };
  const detail = formatValidationErrors(verdict.errors);
  return { passed: false, reason: detail === '' ? 'validation failed' : `validation failed: ${detail}`, errors: verdict.errors };
}

function readConfidence<T>(run: Run<T>, state: T): { value: number; problem?: string } {
  try {
    return { value: checkUnitInterval(run.confidence!(state), 'record.confidence(state)') };
  } catch (err) {
    return { value: 0, problem: err instanceof Error ? err.message : String(err) };
  }
}

/** The result of a run, once the step has returned or thrown and the validation (if any) is known. */
function finish<T>(run: Run<T>, outcome: Outcome<T>, checked: Checked | undefined): CheckpointResult<T> {
  const settings = run.settings;
  if (outcome.threw) {
    const evaluation = settings ? recordWith(settings, 0, false, 'record.') : undefined;
    return failure(run.snapshot, `step threw: ${messageOf(outcome.error)}`, { error: outcome.error }, evaluation);
  }
  const passed = checked === undefined || checked.passed;
  if (settings === undefined) {
    if (passed) return { ok: true, state: outcome.state };
    const failed = checked as Exclude<Checked, { passed: true }>;
    return failure(run.snapshot, failed.reason, failed);
  }
  const confidence = readConfidence(run, outcome.state);
  const evaluation = recordWith(settings, confidence.value, passed, 'record.');
  if (!passed) {
    const failed = checked as Exclude<Checked, { passed: true }>;
    return failure(run.snapshot, failed.reason, failed, evaluation);
  }
  if (confidence.problem !== undefined) return failure(run.snapshot, `confidence unreadable, counted as 0: ${confidence.problem}`, {}, evaluation);
  if (evaluation.lowConfidence) return failure(run.snapshot, `confidence ${confidence.value} is below the threshold ${settings.threshold}`, {}, evaluation);
  return { ok: true, state: outcome.state, evaluation };
}

function failure<T>(state: T, reason: string, detail: { readonly error?: unknown; readonly errors?: readonly OutputValidationError[] }, evaluation?: EvaluationRecord): CheckpointFailure<T> {
  return {
    ok: false,
    state,
    reason,
    ...('error' in detail ? { error: detail.error } : {}),
    ...(detail.errors !== undefined ? { errors: detail.errors } : {}),
    ...(evaluation ? { evaluation } : {}),
  };
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

function isThenable(value: unknown): value is PromiseLike<unknown> {
  return value !== null && (typeof value === 'object' || typeof value === 'function') && typeof (value as PromiseLike<unknown>).then === 'function';
}

function newState<T>(run: Run<T>, returned: T | void): T {
  return returned === undefined ? run.draft : returned;
}

/**
 * Runs `step` on a deep copy of `state`. Keeps the step's result (`{ ok: true, state }`) when it
 * returns and passes `validate`; otherwise returns the checkpoint, a deep copy of `state` as it
 * was before the step (`{ ok: false, state, reason }`): the step's partial mutations are
 * discarded, and `state` itself is never modified. With `record`, writes one evaluation per step
 * and treats a confidence below the threshold as a failure too. The step may be async.
 */
export async function withCheckpoint<T>(state: T, step: CheckpointStep<T>, validate?: CheckpointValidate<T>, options?: CheckpointOptions<T>): Promise<CheckpointResult<T>> {
  const name = 'withCheckpoint';
  const run = begin(name, state, step, validate, options);
  let outcome: Outcome<T>;
  try {
    outcome = { threw: false, state: newState(run, await step(run.draft)) };
  } catch (error) {
    outcome = { threw: true, error };
  }
  let checked: Checked | undefined;
  if (!outcome.threw && validate !== undefined) {
    if (typeof validate === 'function') {
      let verdict: unknown;
      try {
        verdict = await (validate as (s: T) => unknown)(outcome.state);
      } catch (error) {
        checked = { passed: false, reason: `validate threw: ${messageOf(error)}`, error };
      }
      if (checked === undefined) checked = checkedOf(verdictOf(name, verdict));
    } else {
      checked = checkedOf(run.schema!(outcome.state));
    }
  }
  return finish(run, outcome, checked);
}

/**
 * `withCheckpoint` for synchronous steps and predicates: the same contract, without a Promise.
 * Throws a TypeError if the step or the predicate returns a Promise (use `withCheckpoint`).
 */
export function withCheckpointSync<T>(state: T, step: CheckpointStepSync<T>, validate?: CheckpointValidate<T>, options?: CheckpointOptions<T>): CheckpointResult<T> {
  const name = 'withCheckpointSync';
  const run = begin(name, state, step, validate, options);
  let outcome: Outcome<T>;
  try {
    const returned: unknown = step(run.draft);
    if (isThenable(returned)) {
      // Nobody awaits it: keep its rejection from becoming an unhandled rejection.
      Promise.resolve(returned).catch(() => undefined);
      throw new AsyncMisuse(`${name}: the step returned a Promise: use withCheckpoint (async) for async steps`);
    }
    outcome = { threw: false, state: newState(run, returned as T | void) };
  } catch (error) {
    if (error instanceof AsyncMisuse) throw new TypeError(error.message);
    outcome = { threw: true, error };
  }
  let checked: Checked | undefined;
  if (!outcome.threw && validate !== undefined) {
    if (typeof validate === 'function') {
      let verdict: unknown;
      try {
        verdict = (validate as (s: T) => unknown)(outcome.state);
      } catch (error) {
        checked = { passed: false, reason: `validate threw: ${messageOf(error)}`, error };
      }
      if (isThenable(verdict)) {
        Promise.resolve(verdict).catch(() => undefined);
        throw new TypeError(`${name}: validate returned a Promise: use withCheckpoint (async) for async predicates`);
      }
      if (checked === undefined) checked = checkedOf(verdictOf(name, verdict));
    } else {
      checked = checkedOf(run.schema!(outcome.state));
    }
  }
  return finish(run, outcome, checked);
}

/** Marks the misuse the sync variant must rethrow rather than count as a failed step. */
class AsyncMisuse extends Error {}
