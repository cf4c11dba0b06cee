import { BATCH_EXPIRED_MESSAGE } from './batch-object.js';
import type { BatchState } from './batch-state.js';
import { newId, toSeconds, type FileStore } from './files.js';

// The end of a batch: its output and error files written to the file store, and the final status stamped.

/** Expired: lines not answered yet go to the error file as batch_expired. */
export function finishExpired(b: BatchState, at: number, files: FileStore): void {
  for (let i = b.done; i < b.lines.length; i++) {
    const line = b.lines[i];
    if (line === undefined) continue;
    b.errLines.push(
      JSON.stringify({
        id: newId('batch_req_'),
        custom_id: line.customId,
        response: null,
        error: { code: 'batch_expired', message: BATCH_EXPIRED_MESSAGE },
      }),
    );
    b.object.request_counts.failed += 1;
  }
  b.done = b.lines.length;
  finish(b, 'expired', at, files);
}

/** Write the output and error files (null ids when empty) and stamp the final status. */
export function finish(b: BatchState, status: 'completed' | 'expired' | 'cancelled', at: number, files: FileStore): void {
  const id = b.object.id;
  if (b.outLines.length > 0) {
    b.object.output_file_id = files.add(`batch_${id}_output.jsonl`, 'batch_output', Buffer.from(b.outLines.join('\n') + '\n')).id;
  }
  if (b.errLines.length > 0) {
    b.object.error_file_id = files.add(`batch_${id}_error.jsonl`, 'batch_output', Buffer.from(b.errLines.join('\n') + '\n')).id;
  }
  b.outLines = [];
  b.errLines = [];
  b.lines = [];
  b.object.status = status;
  const stamp = toSeconds(at);
  if (status === 'completed') b.object.completed_at = stamp;
  else if (status === 'expired') b.object.expired_at = stamp;
  else b.object.cancelled_at = stamp;
  b.phaseStartMs = at;
}
