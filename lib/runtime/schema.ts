import Ajv, { type ErrorObject } from 'ajv';
import Ajv2019 from 'ajv/dist/2019';
import Ajv2020 from 'ajv/dist/2020';

// JSON Schema validation of an agent's output with Ajv (bundled into runtime/index.js, so the
// agent installs nothing). Each schema object is compiled once: the compiled function is kept in a
// WeakMap keyed by the schema object, so pass the same object (a module-level constant) every time.

/** One reason the value does not match its schema. */
export interface OutputValidationError {
  /** JSON Pointer to the offending part of the value; '' is the value itself. */
  readonly path: string;
  /** Ajv's message, e.g. "must have required property 'answer'". */
  readonly message: string;
  /** The schema keyword that failed, e.g. 'required', 'type'. */
  readonly keyword: string;
}

/** What `validateOutput` found. */
export interface OutputValidation {
  /** The value matches the schema. */
  readonly valid: boolean;
  /** Every mismatch (Ajv `allErrors`); empty when valid. */
  readonly errors: readonly OutputValidationError[];
}

/** A compiled schema. */
type Validator = (value: unknown) => OutputValidation;

type AjvClass = typeof Ajv | typeof Ajv2019 | typeof Ajv2020;

/** The dialects supported, by the `$schema` URI (with or without a trailing '#', http or https). */
const DIALECTS: ReadonlyArray<{ readonly pattern: RegExp; readonly name: string; readonly ajv: AjvClass }> = [
  { pattern: /^https?:\/\/json-schema\.org\/draft-07\/schema#?$/, name: 'draft-07', ajv: Ajv },
  { pattern: /^https?:\/\/json-schema\.org\/draft\/2019-09\/schema#?$/, name: '2019-09', ajv: Ajv2019 },
  { pattern: /^https?:\/\/json-schema\.org\/draft\/2020-12\/schema#?$/, name: '2020-12', ajv: Ajv2020 },
];

const instances = new Map<AjvClass, InstanceType<AjvClass>>();
const compiled = new WeakMap<object, Validator>();

function ajvFor(schema: Record<string, unknown>): InstanceType<AjvClass> {
  const uri = schema.$schema;
  let cls: AjvClass = Ajv; // no $schema: draft-07, Ajv's default dialect
  if (uri !== undefined) {
    const dialect = typeof uri === 'string' ? DIALECTS.find((d) => d.pattern.test(uri)) : undefined;
    if (dialect === undefined) {
      throw new TypeError(`schema.$schema ${JSON.stringify(uri)} is not supported: use draft-07, 2019-09 or 2020-12 (or omit $schema for draft-07)`);
    }
    cls = dialect.ajv;
  }
  let ajv = instances.get(cls);
  if (ajv === undefined) {
    ajv = new cls({
      // Every mismatch, so the agent can be told all that is wrong with its output at once.
      allErrors: true,
      // `format` is not asserted: no format plugin is bundled, and in 2020-12 `format` is an
      // annotation unless a format-assertion vocabulary is enabled (JSON Schema Validation 2020-12, §7.2).
      validateFormats: false,
      // Strict mode stays on: an unknown keyword (a typo such as `require`) is an error at compile
      // time rather than a schema that silently accepts everything.
    });
    instances.set(cls, ajv);
  }
  return ajv;
}

function compile(schema: Record<string, unknown>): Validator {
  const ajv = ajvFor(schema);
  let validate;
  try {
    validate = ajv.compile(schema);
  } catch (err) {
    throw new TypeError(`schema does not compile: ${err instanceof Error ? err.message : String(err)}`);
  } finally {
    // Ajv keeps every compiled schema in a Map keyed by the schema object (and by its $id): drop it,
    // so a schema built per call is garbage-collected with its WeakMap entry, and two schema objects
    // with the same $id do not collide ("schema with key or id already exists").
    ajv.removeSchema(schema);
  }
  return (value) => {
    if (validate(value)) return { valid: true, errors: [] };
    const errors = (validate.errors ?? []).map((e) => ({ path: e.instancePath, message: messageOf(e), keyword: e.keyword }));
    return { valid: false, errors };
  };
}

/** Ajv's message, plus the offending property name where Ajv keeps it in `params` (the message alone does not say which). */
function messageOf(e: ErrorObject): string {
  const message = e.message ?? e.keyword;
  const property = e.params.additionalProperty ?? e.params.unevaluatedProperty;
  return typeof property === 'string' ? `${message}: ${JSON.stringify(property)}` : message;
}

/**
 * The compiled validator of `schema`, compiled on first use and cached per schema object. Throws
 * a TypeError when the schema is not usable (not an object, unknown `$schema`, does not compile).
 * @internal
 */
export function outputValidator(schema: object): (value: unknown) => OutputValidation {
  if (schema === null || typeof schema !== 'object' || Array.isArray(schema)) {
    throw new TypeError(`schema must be a JSON Schema object, got ${schema === null ? 'null' : Array.isArray(schema) ? 'an array' : typeof schema}`);
  }
  let validator = compiled.get(schema);
  if (validator === undefined) {
    validator = compile(schema as Record<string, unknown>);
    compiled.set(schema, validator);
  }
  return validator;
}

/**
 * Validates `value` against the JSON Schema `schema` (draft-07 by default; 2019-09 or 2020-12 by
 * its `$schema`). Returns `{ valid, errors }`; throws a TypeError only when the schema itself is
 * not usable. The schema is compiled on first use and cached per schema object.
 */
export function validateOutput(schema: object, value: unknown): OutputValidation {
  return outputValidator(schema)(value);
}

/** The errors as one line, for a `reason` or a re-prompt: "/answer must be string; must have required property 'sources'". */
export function formatValidationErrors(errors: readonly OutputValidationError[]): string {
  return errors.map((e) => (e.path === '' ? e.message : `${e.path} ${e.message}`)).join('; ');
}
