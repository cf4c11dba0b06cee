import { randomBytes } from 'node:crypto';
import type { SheetsClient } from './client.js';

/**
 * Asks Sheets whether the service account may edit the spreadsheet, without changing
 * anything a person sees: one spreadsheets.batchUpdate that creates a developer-metadata
 * entry on the spreadsheet and deletes it again in the same request.
 *
 * Why this request: a viewer (or commenter) gets 403 PERMISSION_DENIED on any
 * spreadsheets.batchUpdate, so only an Editor's call succeeds; reading proves nothing
 * about writing. Developer metadata is not shown in the sheet's cells, formats or tabs
 * (https://developers.google.com/sheets/api/guides/metadata), and PROJECT visibility keeps
 * it to this Cloud project ("only visible to and accessible by the developer project that
 * created the metadata", DeveloperMetadataVisibility). The requests of one batchUpdate are
 * "applied together atomically" (spreadsheets.batchUpdate reference), so the entry never
 * outlives the call. An empty batchUpdate would not do: Google answers 400 "Must specify
 * at least one request." (googleapis/google-api-nodejs-client#1001), which says nothing
 * about permission; Drive's capabilities.canEdit needs a Drive scope the bot does not ask for.
 *
 * Resolves when the account may write; rejects with the client's SheetsError otherwise
 * (403 for a read-only share).
 */
export async function probeWrite(client: SheetsClient): Promise<void> {
  const key = `status-validator.write-check.${randomBytes(6).toString('hex')}`;
  const replies = await client.batchUpdate(
    [
      { createDeveloperMetadata: { developerMetadata: { metadataKey: key, metadataValue: 'deleted in the same request', location: { spreadsheet: true }, visibility: 'PROJECT' } } },
      { deleteDeveloperMetadata: { dataFilter: { developerMetadataLookup: { metadataKey: key } } } },
    ],
    'check write access (a developer-metadata entry added and removed in one request)',
  );
  const created = replies[0]?.createDeveloperMetadata?.developerMetadata?.metadataId;
  const deleted = replies[1]?.deleteDeveloperMetadata?.deletedDeveloperMetadata ?? [];
  // Should the delete not have seen the entry made just before it, remove it by its id.
  if (typeof created === 'number' && !deleted.some((m) => m.metadataId === created)) {
    await client.batchUpdate([{ deleteDeveloperMetadata: { dataFilter: { developerMetadataLookup: { metadataId: created } } } }], 'remove the write-check metadata');
  }
}
