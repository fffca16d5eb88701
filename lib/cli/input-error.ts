import type { ErrorCode } from '../core';

/**
 * A problem with what the user gave the CLI: a series file, a flag, a cloud assembly. The message
 * names the file, where in it (CSV line, JSON entry and minute) and the field, so it can be fixed
 * without reading the code; rules with a stable code (docs/simulator.md, "Bad input") end with it.
 * The CLI prints it and exits with code 2.
 */
export class InputError extends Error {
  constructor(
    message: string,
    /** The file at fault, when there is one. */
    public readonly file?: string,
    /** `line 5` (CSV) or `series[3] (minute 12)` (JSON). */
    public readonly where?: string,
    /** The field or column at fault. */
    public readonly field?: string,
    /** The rule's code (`RT712`), when it has one. */
    public readonly code?: ErrorCode,
  ) {
    super(
      [file, where].filter((s) => s !== undefined).join(': ') +
        (file !== undefined || where !== undefined ? ': ' : '') +
        (field !== undefined ? `field "${field}": ` : '') +
        message +
        (code !== undefined ? ` (${code})` : ''),
    );
    this.name = 'InputError';
  }
}

/** A flag's value, or a flag given wrong (unknown, repeated, without its value): names the flag. */
export const FLAG_ERROR: ErrorCode = 'RT712';
/** A file the CLI reads that is missing, a directory, empty, binary or not well-formed JSON. */
export const FILE_ERROR: ErrorCode = 'RT713';
/** A cloud assembly whose manifest or stack metadata does not have the shape `cdk synth` writes. */
export const ASSEMBLY_ERROR: ErrorCode = 'RT714';
/** A rollback-triggers policy entry in a cloud assembly that is malformed or contradicts itself (hand-edited). */
export const POLICY_METADATA_ERROR: ErrorCode = 'RT715';
/** A series file (JSON or CSV) whose content breaks a rule: a field, a column, a row or an entry. */
export const SERIES_FILE_ERROR: ErrorCode = 'RT716';

/** A series-file error: `series.json: series[3] (minute 12): field "errors": … (RT716)`. */
export function seriesError(message: string, file?: string, where?: string, field?: string): InputError {
  return new InputError(message, file, where, field, SERIES_FILE_ERROR);
}

/** A flag error: `--bake-minutes must be …, got "-5" (RT712)`. */
export function flagError(message: string): InputError {
  return new InputError(message, undefined, undefined, undefined, FLAG_ERROR);
}
