import AjvCore from 'ajv/dist/core';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { formatValidationErrors, validateOutput } from '../../lib/runtime';

const ANSWER = {
  type: 'object',
  required: ['answer', 'confidence'],
  additionalProperties: false,
  properties: {
    answer: { type: 'string', minLength: 1 },
    confidence: { type: 'number', minimum: 0, maximum: 1 },
    sources: { type: 'array', items: { type: 'string' } },
  },
};

afterEach(() => {
  vi.restoreAllMocks();
});

describe('validateOutput', () => {
  it('accepts an output that matches', () => {
    expect(validateOutput(ANSWER, { answer: 'refund approved', confidence: 0.8, sources: ['policy#4'] })).toEqual({ valid: true, errors: [] });
  });

  it('reports every mismatch with its JSON Pointer and keyword', () => {
    const result = validateOutput(ANSWER, { answer: '', confidence: 1.5, sources: ['a', 3], extra: true });
    expect(result.valid).toBe(false);
    expect(result.errors).toEqual(
      expect.arrayContaining([
        { path: '', message: 'must NOT have additional properties: "extra"', keyword: 'additionalProperties' },
        { path: '/answer', message: 'must NOT have fewer than 1 characters', keyword: 'minLength' },
        { path: '/confidence', message: 'must be <= 1', keyword: 'maximum' },
        { path: '/sources/1', message: 'must be string', keyword: 'type' },
      ]),
    );
    expect(result.errors).toHaveLength(4);
  });

  it('reports a missing property and a wrong type of the whole value', () => {
    expect(validateOutput(ANSWER, { answer: 'x' }).errors).toEqual([{ path: '', message: "must have required property 'confidence'", keyword: 'required' }]);
    expect(validateOutput(ANSWER, 'just text').errors).toEqual([{ path: '', message: 'must be object', keyword: 'type' }]);
  });

  it('formats the errors on one line, for a reason or a re-prompt', () => {
    const { errors } = validateOutput(ANSWER, { answer: 3 });
    expect(formatValidationErrors(errors)).toBe("must have required property 'confidence'; /answer must be string");
  });

  it('compiles each schema object once', () => {
    const compile = vi.spyOn(AjvCore.prototype, 'compile');
    const schema = { type: 'object', properties: { n: { type: 'integer' } } };
    for (let i = 0; i < 5; i++) validateOutput(schema, { n: i });
    expect(compile).toHaveBeenCalledTimes(1);
    // A structurally equal but different object is another schema: compiled again (the cache is per object).
    validateOutput({ ...schema }, { n: 1 });
    expect(compile).toHaveBeenCalledTimes(2);
  });

  it('accepts two schema objects with the same $id (a schema rebuilt per call does not collide)', () => {
    const v1 = { $id: 'https://example.com/answer.json', type: 'object', required: ['a'] };
    const v2 = { $id: 'https://example.com/answer.json', type: 'object', required: ['b'] };
    expect(validateOutput(v1, { a: 1 }).valid).toBe(true);
    expect(validateOutput(v2, { a: 1 }).valid).toBe(false);
    expect(validateOutput(v1, { b: 1 }).valid).toBe(false);
  });

  it('validates recursive schemas ($ref to the root and to $defs)', () => {
    const tree = {
      $defs: { leaf: { type: 'string' } },
      type: 'object',
      properties: { name: { $ref: '#/$defs/leaf' }, children: { type: 'array', items: { $ref: '#' } } },
      required: ['name'],
    };
    expect(validateOutput(tree, { name: 'root', children: [{ name: 'a', children: [{ name: 'b' }] }] }).valid).toBe(true);
    expect(validateOutput(tree, { name: 'root', children: [{ name: 'a', children: [{ name: 7 }] }] }).errors).toEqual([
      { path: '/children/0/children/0/name', message: 'must be string', keyword: 'type' },
    ]);
  });

  it('picks the dialect from $schema: draft-07 by default, 2019-09 and 2020-12 on request', () => {
    const tuple2020 = { $schema: 'https://json-schema.org/draft/2020-12/schema', type: 'array', prefixItems: [{ type: 'string' }, { type: 'number' }], minItems: 2, items: false };
    expect(validateOutput(tuple2020, ['a', 1]).valid).toBe(true);
    expect(validateOutput(tuple2020, ['a', 1, 2]).valid).toBe(false);
    expect(validateOutput(tuple2020, ['a']).valid).toBe(false);
    const unevaluated2019 = { $schema: 'https://json-schema.org/draft/2019-09/schema', type: 'object', properties: { a: {} }, unevaluatedProperties: false };
    expect(validateOutput(unevaluated2019, { a: 1 }).valid).toBe(true);
    expect(validateOutput(unevaluated2019, { a: 1, b: 2 }).errors[0].message).toBe('must NOT have unevaluated properties: "b"');
    const tuple07 = { $schema: 'http://json-schema.org/draft-07/schema#', type: 'array', items: [{ type: 'string' }], minItems: 1, additionalItems: false };
    expect(validateOutput(tuple07, ['a']).valid).toBe(true);
    expect(validateOutput(tuple07, ['a', 'b']).valid).toBe(false);
  });

  it('does not assert `format` (no format plugin is bundled; an annotation, as in 2020-12)', () => {
    expect(validateOutput({ type: 'string', format: 'email' }, 'not an email').valid).toBe(true);
  });

  it('throws a TypeError for a schema it cannot use', () => {
    expect(() => validateOutput({ type: 'strin' }, 1)).toThrow(/schema does not compile: .*type/);
    // Strict mode: a typo of `required` is an error, not a schema that accepts everything.
    expect(() => validateOutput({ type: 'object', require: ['a'] }, {})).toThrow(/schema does not compile: .*unknown keyword: "require"/);
    expect(() => validateOutput({ $schema: 'http://json-schema.org/draft-04/schema#' }, {})).toThrow(/\$schema "http:\/\/json-schema.org\/draft-04\/schema#" is not supported/);
    expect(() => validateOutput(null as never, {})).toThrow(/schema must be a JSON Schema object, got null/);
    expect(() => validateOutput([] as never, {})).toThrow(/got an array/);
    expect(() => validateOutput(true as never, {})).toThrow(TypeError);
  });
});
