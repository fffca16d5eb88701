import { readFileSync } from 'node:fs';
import { FILE_ERROR, InputError } from './input-error';

/**
 * Reads a file the CLI was given as UTF-8 text. Every way it can fail is an {@link InputError}
 * naming the file and what was expected there (`what`: "a series file", "a cloud assembly
 * manifest"): missing, a directory, unreadable, `-` (standard input, which the CLI does not read),
 * or binary (a NUL byte or bytes that are not UTF-8, as a compressed or image file has). A leading
 * byte-order mark is dropped.
 */
export function readTextFile(file: string, what: string): string {
  if (file === '-') throw new InputError('standard input is not read: save the input to a file and give its name', file, undefined, undefined, FILE_ERROR);
  let bytes: Buffer;
  try {
    bytes = readFileSync(file);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    const message =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EISDIR'
          ? `is a directory, not ${what}`
          : code === 'EACCES'
            ? 'cannot be read (permission denied)'
            : (e as Error).message;
    throw new InputError(message, file, undefined, undefined, FILE_ERROR);
  }
  const nul = bytes.indexOf(0);
  let text: string;
  try {
    if (nul >= 0) throw new Error('NUL');
    text = new TextDecoder('utf-8', { fatal: true }).decode(bytes);
  } catch {
    throw new InputError(`is not a text file (${nul >= 0 ? `a NUL byte at offset ${nul}` : 'bytes that are not UTF-8'}); expected ${what}`, file, undefined, undefined, FILE_ERROR);
  }
  return text.replace(/^\uFEFF/, '');
}

/** Parses JSON text read from `file`; an empty file or malformed JSON names the file, line and column. */
export function parseJsonText(file: string, text: string, what: string): unknown {
  if (text.trim() === '') throw new InputError(`is empty; expected ${what}`, file, undefined, undefined, FILE_ERROR);
  try {
    return JSON.parse(text);
  } catch (e) {
    throw new InputError(`malformed JSON: ${jsonErrorWithLine(text, (e as Error).message)}`, file, undefined, undefined, FILE_ERROR);
  }
}

/** Turns `Unexpected token } in JSON at position 42` into the same message with line and column. */
export function jsonErrorWithLine(text: string, message: string): string {
  const match = /at position (\d+)/.exec(message);
  if (!match || /\(line \d+/.test(message)) return message;
  const position = Number(match[1]);
  const before = text.slice(0, position);
  const line = before.split('\n').length;
  const column = position - before.lastIndexOf('\n');
  return `${message} (line ${line} column ${column})`;
}
