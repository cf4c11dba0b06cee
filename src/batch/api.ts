import { toFile, type OpenAI } from 'openai';
import type { Store } from '../cache/index.js';
import type { Config, Secrets } from '../config/index.js';
import { PACKED_FORMAT, buildMessages, buildPackedMessages, decideVerdict, isDroppable, packingOf, unsupportedField, type Provider, type Usage } from '../llm/index.js';
import { localDate, planOf, primaryProviderOf, surveyTab } from '../pipeline/index.js';
import { backoffDelay, sleep } from '../retry/index.js';
import { batchJobsOf, type BatchJob, type BatchJobs, type BatchLine } from './jobs.js';
import { answersOf, resultLineOf, type ResultLine } from './lines.js';

/** The Batch API's limits per input file. */
export const MAX_LINES = 50_000;
export const MAX_BYTES = 200 * 1024 * 1024;

export const TERMINAL = new Set(['completed', 'failed', 'expired', 'cancelled']);

/** A line's custom_id: derived from the cache key, so a result finds its verdict's key again. */
const customIdOf = (key: string) => `sv-${key.slice(0, 48)}`;

export interface SubmitResult {
  jobs: BatchJob[];
  /** Rows covered by the submitted questions. */
  rows: number;
  /** Questions left out because a job not yet applied already asks them. */
  alreadyPending: number;
}

/**
 * Submits the cache misses of the sheet as Batch API jobs (one model per file, split
 * past 50,000 lines or 200 MB) and records each job in SQLite before returning.
 */
export async function submitBatch(config: Config, secrets: Secrets, store: Store, now: Date, force = false, recheckOlderThanMs?: number): Promise<SubmitResult> {
  // The config resolved once for this submit: the survey, the provider and the prompts share it.
  const plan = planOf(config, secrets);
  const { selection } = await surveyTab(plan, secrets, store, { force, now, recheckOlderThanMs });
  const jobs = batchJobsOf(store);
  const pending = await jobs.pendingKeys();
  const fresh = selection.jobs.filter((job) => !pending.has(job.key));
  // Batch jobs go to the first provider: the Batch API has no fallback.
  const first = plan.providers[0]?.config;
  const refused = first ? await store.fieldMemory().recall({ provider: first.base_url, model: first.model }) : [];
  const provider = primaryProviderOf(plan, refused);
  const batchFacts = provider.facts.batch;
  // The commands refuse --mode batch for such a kind before anything is read (commands/batch.ts).
  if (!batchFacts) throw new RangeError(`provider "${provider.name}" (${provider.facts.label}) has no Batch API`);
  const rules = plan.rules;
  const today = localDate(now);
  const files: Array<{ lines: BatchLine[]; text: string[]; bytes: number }> = [];
  const pack = packingOf(plan.llm).rows;
  for (let at = 0; at < fresh.length; at += pack) {
    const group = fresh.slice(at, at + pack);
    const first = group[0];
    if (!first) continue;
    // One row per line, or a packed line whose rows are told apart by label.
    const customId = group.length === 1 ? customIdOf(first.key) : `svp-${first.key.slice(0, 44)}`;
    const lines: BatchLine[] = group.map((job, i) => ({ customId, label: group.length === 1 ? '' : `r${i + 1}`, key: job.key, inputs: job.inputs }));
    const body =
      group.length === 1
        ? provider.requestBody(buildMessages(first.inputs, rules, today))
        : provider.requestBody(buildPackedMessages(lines.map((l) => ({ label: l.label, inputs: l.inputs })), rules, today), PACKED_FORMAT, Math.min(100_000, plan.llm.max_completion_tokens * group.length));
    // The job's endpoint in the provider's own words (Azure's has no /v1), repeated by every line.
    const json = JSON.stringify({ custom_id: customId, method: 'POST', url: batchFacts.endpoint, body });
    let file = files.at(-1);
    if (!file || file.text.length >= MAX_LINES || file.bytes + json.length + 1 > MAX_BYTES) {
      file = { lines: [], text: [], bytes: 0 };
      files.push(file);
    }
    file.lines.push(...lines);
    file.text.push(json);
    file.bytes += Buffer.byteLength(json) + 1;
  }
  const submitted: BatchJob[] = [];
  for (const [i, file] of files.entries()) {
    const upload = await explained(provider, async () => provider.batchApi.files.create({ file: await toFile(Buffer.from(`${file.text.join('\n')}\n`), `status-validator-${now.toISOString().slice(0, 10)}-${i + 1}.jsonl`), purpose: 'batch' }));
    const batch = await explained(provider, () => provider.batchApi.batches.create({
      input_file_id: upload.id,
      endpoint: batchFacts.endpoint as OpenAI.BatchCreateParams['endpoint'],
      completion_window: batchFacts.completionWindow as OpenAI.BatchCreateParams['completion_window'],
      metadata: { tool: 'status-validator', spreadsheet_id: config.sheets.spreadsheet_id, sheet: config.sheets.sheet },
    }));
    const job = {
      id: batch.id,
      provider: provider.name,
      model: provider.model,
      spreadsheetId: config.sheets.spreadsheet_id,
      sheet: config.sheets.sheet,
      target: config.target.name,
      inputFileId: upload.id,
      status: batch.status,
      requests: file.text.length,
      createdAt: new Date().toISOString(),
    };
    await jobs.record(job, file.lines);
    submitted.push({ ...job, updatedAt: job.createdAt, outputFileId: null, errorFileId: null, appliedAt: null });
  }
  const rows = fresh.reduce((n, job) => n + job.entries.length, 0);
  return { jobs: submitted, rows, alreadyPending: selection.jobs.length - fresh.length };
}

export interface JobProgress {
  status: string;
  total: number;
  completed: number;
  failed: number;
}

/** Asks the provider how a job is doing and records it. */
export async function refreshJob(provider: Provider, jobs: BatchJobs, id: string): Promise<JobProgress> {
  const batch = await explained(provider, () => provider.batchApi.batches.retrieve(id), true);
  await jobs.update(id, { status: batch.status, outputFileId: batch.output_file_id ?? null, errorFileId: batch.error_file_id ?? null });
  return { status: batch.status, total: batch.request_counts?.total ?? 0, completed: batch.request_counts?.completed ?? 0, failed: batch.request_counts?.failed ?? 0 };
}

export interface AppliedResults {
  answered: number;
  /** Answers not saved: the cache holds a verdict computed after the job was submitted. */
  keptNewer: number;
  failed: Array<{ customId: string; reason: string }>;
  usage: Usage;
}

/**
 * Downloads a finished job's output and error files, validates each answer and
 * commits the verdicts to the cache (the sheet is written afterwards, identity-
 * checked, from the cache). Failed lines are reported and left for the next run.
 */
export async function applyResults(provider: Provider, jobs: BatchJobs, store: Store, job: BatchJob, allowedStatuses: readonly string[]): Promise<AppliedResults> {
  const lines = await jobs.lines(job.id);
  const result: AppliedResults = { answered: 0, keptNewer: 0, failed: [], usage: { promptTokens: 0, completionTokens: 0, cachedTokens: 0 } };
  const seen = new Set<string>();
  const fail = (questions: readonly BatchLine[], reason: string) => {
    for (const q of questions) result.failed.push({ customId: q.label ? `${q.customId}/${q.label}` : q.customId, reason });
  };
  // A line's body is an ordinary request: a field the provider refuses in it is learned as a
  // sync run would learn it, so that the next batch (and run) leaves it out.
  const learn = learnRefusals(provider, store);
  for (const record of await download(provider, job.outputFileId)) {
    const questions = lines.get(record.custom_id);
    // A line repeated in the file answers once.
    if (!questions || seen.has(record.custom_id)) continue;
    seen.add(record.custom_id);
    const body = record.response?.body;
    if (!record.response || record.response.status_code >= 400 || !body) {
      await learn(record, questions);
      fail(questions, record.error?.message ?? `status ${record.response?.status_code ?? 'none'}`);
      continue;
    }
    const usage = { promptTokens: body.usage?.prompt_tokens ?? 0, completionTokens: body.usage?.completion_tokens ?? 0, cachedTokens: body.usage?.prompt_tokens_details?.cached_tokens ?? 0 };
    result.usage.promptTokens += usage.promptTokens;
    result.usage.completionTokens += usage.completionTokens;
    result.usage.cachedTokens += usage.cachedTokens;
    const choice = body.choices?.[0];
    if (choice?.finish_reason === 'length') {
      fail(questions, 'the answer was cut off');
      continue;
    }
    const answers = answersOf(choice?.message?.content, questions.map((q) => q.label));
    if (!answers.ok) {
      fail(questions, answers.problem);
      continue;
    }
    const share = { promptTokens: Math.round(usage.promptTokens / questions.length), completionTokens: Math.round(usage.completionTokens / questions.length), cachedTokens: Math.round(usage.cachedTokens / questions.length) };
    for (const q of questions) {
      const answer = answers.value.get(q.label);
      if (!answer) {
        fail([q], 'the packed answer left this row out');
        continue;
      }
      // Invariant 2: committed to the cache before anything shows it. A verdict stored after
      // the job was submitted is newer than this answer: it stays.
      const verdict = { key: q.key, ...decideVerdict(answer, q.inputs, allowedStatuses), model: body.model ?? job.model, provider: `${job.provider} (batch)`, checkedAt: new Date().toISOString(), ...share };
      if (await store.putUnlessNewer(verdict, job.createdAt)) result.answered++;
      else result.keptNewer++;
    }
  }
  for (const record of await download(provider, job.errorFileId)) {
    const id = record.custom_id;
    const questions = lines.get(id);
    if (!questions || seen.has(id)) continue;
    seen.add(id);
    await learn(record, questions);
    fail(questions, record.error?.message ?? record.response?.body?.error?.message ?? 'failed in the batch');
  }
  for (const [id, questions] of lines) if (!seen.has(id)) fail(questions, `not answered (the job ended ${job.status})`);
  return result;
}

/**
 * Learns a field a failed line's 400 names as refused (read as a sync answer is: the
 * documented shapes, the fields the bot sends, never a naming its rows' own text holds).
 */
function learnRefusals(provider: Provider, store: Store): (record: ResultLine, questions: readonly BatchLine[]) => Promise<void> {
  const memory = store.fieldMemory();
  const learned = new Set<string>();
  return async (record, questions) => {
    const error = record.response?.body?.error;
    if (record.response?.status_code !== 400 || !error) return;
    const quoted = questions.flatMap((q) => [q.inputs.status, q.inputs.comment, q.inputs.completion_date, ...(q.inputs.extra ?? [])]);
    const field = unsupportedField(error.message, error.code, error.param, quoted);
    if (field === undefined || !isDroppable(field) || learned.has(field)) return;
    learned.add(field);
    await memory.learn({ provider: provider.config.base_url, model: provider.model }, field, error.message ?? field);
  };
}

async function download(provider: Provider, fileId: string | null): Promise<ResultLine[]> {
  if (!fileId) return [];
  const text = await explained(provider, async () => (await provider.batchApi.files.content(fileId)).text(), true);
  const out: ResultLine[] = [];
  for (const line of text.split('\n')) {
    if (line.trim() === '') continue;
    // A damaged line answers nothing; its rows are reported as not answered.
    const record = resultLineOf(line);
    if (record) out.push(record);
  }
  return out;
}

/**
 * A call of the Files or Batches API, its failure told as the chat calls' are (an
 * unreachable endpoint named by its host in the Fix line, a refused key, a 5xx), not as
 * the SDK's bare error: nothing was submitted or applied, and the job, if any, is kept.
 */
async function explained<T>(provider: Provider, call: () => Promise<T>, idempotent = false): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await call();
    } catch (error) {
      const explainedError = provider.explain(error);
      // A read (a job's state, a result file) is asked again a few times, soon: a kept-alive
      // connection the server dropped, or a blip, should not end a wait of hours. A create is
      // not repeated (a second batches.create would submit, and pay for, the questions twice).
      if (!idempotent || !explainedError.retryable || attempt >= READ_RETRIES) throw explainedError;
      await sleep(explainedError.retryAfterMs ?? backoffDelay(attempt, READ_BACKOFF));
    }
  }
}

const READ_RETRIES = 3;
const READ_BACKOFF = { baseMs: 250, capMs: 2_000 };
