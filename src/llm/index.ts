export { ANSWER_JSON_SCHEMA, OUTPUT_SCHEMA_VERSION, answerSchema, parseAnswer, type Answer } from './answer.js';
export { Cooldown } from './cooldown.js';
export { PROMPT_VERSION, buildMessages, isAllowedStatus, promptCacheKey, type ChatMessage, type PromptRules } from './prompt.js';
export { Provider, type Completion, type ProviderOptions, type Usage } from './provider.js';
export { Validator, type Outcome, type RetryEvent, type ValidatorOptions } from './validator.js';
export { decideVerdict, type Verdict } from './verdict.js';
export { costOf, priceOf, type Price } from './pricing.js';
