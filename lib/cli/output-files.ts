import { closeSync, constants, accessSync, openSync, renameSync, rmSync, statSync, writeSync } from 'node:fs';
import { basename, dirname, join, resolve } from 'node:path';
import { FILE_ERROR, InputError, flagError } from './input-error';

/**
 * Writes a set of output files all or nothing: each goes to a temporary file in its own directory
 * (so the final rename stays on one file system and is atomic), and only when every one is written
 * are they renamed into place. A failure removes the temporary files and leaves any existing
 * outputs untouched.
 */
export interface OutputFile {
  readonly path: string;
  readonly content: string | Uint8Array;
}

/** Fails early, before any work, when an output's directory is missing or not writable. */
export function checkOutputPath(path: string, flag: string): void {
  const dir = dirname(resolve(path));
  try {
    if (!statSync(dir).isDirectory()) throw new Error('not a directory');
    accessSync(dir, constants.W_OK);
  } catch {
    throw flagError(`${flag} ${path}: the directory ${dir} does not exist or is not writable`);
  }
  try {
    if (statSync(path).isDirectory()) throw flagError(`${flag} ${path}: is a directory; give a file name`);
  } catch (e) {
    if (e instanceof InputError) throw e;
  }
}

export function writeAllOrNothing(files: readonly OutputFile[]): void {
  const written: Array<{ temp: string; path: string }> = [];
  let renamed = 0;
  try {
    for (const file of files) {
      const temp = join(dirname(resolve(file.path)), `.${basename(file.path)}.${process.pid}.${Date.now()}.tmp`);
      written.push({ temp, path: file.path });
      const fd = openSync(temp, 'wx', 0o644);
      try {
        const data = typeof file.content === 'string' ? Buffer.from(file.content, 'utf8') : file.content;
        let offset = 0;
        while (offset < data.length) offset += writeSync(fd, data, offset, data.length - offset);
      } finally {
        closeSync(fd);
      }
    }
    for (const { temp, path } of written) {
      renameSync(temp, path);
      renamed++;
    }
  } catch (e) {
    for (const { temp } of written.slice(renamed)) rmSync(temp, { force: true });
    const done = written.slice(0, renamed).map((w) => w.path);
    throw new InputError(
      `could not write the outputs (${done.length > 0 ? `only ${done.join(', ')} written` : 'none was written'}): ${(e as Error).message}`,
      undefined,
      undefined,
      undefined,
      FILE_ERROR,
    );
  }
}
