import { afterAll, beforeAll } from 'vitest';

/**
 * Shrinks the target size of a streamed read's chunks (STATUS_VALIDATOR_READ_CHUNK_BYTES,
 * src/sheets/chunks.ts) for the test file that calls it, so that a small sheet is read in
 * many chunks; the variable is put back as it was after the file's tests.
 */
export function readInChunksOf(bytes: number): void {
  let saved: string | undefined;
  beforeAll(() => {
    saved = process.env['STATUS_VALIDATOR_READ_CHUNK_BYTES'];
    process.env['STATUS_VALIDATOR_READ_CHUNK_BYTES'] = String(bytes);
  });
  afterAll(() => {
    if (saved === undefined) delete process.env['STATUS_VALIDATOR_READ_CHUNK_BYTES'];
    else process.env['STATUS_VALIDATOR_READ_CHUNK_BYTES'] = saved;
  });
}
