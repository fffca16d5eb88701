/**
 * A problem with what the user gave the CLI: a series file, a flag, a cloud assembly. The message
 * names the file, where in it (CSV line, JSON entry and minute) and the field, so it can be fixed
 * without reading the code. The CLI prints it and exits with code 2.
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
  ) {
    super([file, where].filter((s) => s !== undefined).join(': ') + (file !== undefined || where !== undefined ? ': ' : '') + (field !== undefined ? `field "${field}": ` : '') + message);
    this.name = 'InputError';
  }
}
