export { PROVIDER_KINDS, type BatchFacts, type DroppableField, type KindFacts, type ProviderKind } from './types.js';
export { KINDS } from './table.js';
export { detectKind, factsOf } from './detect.js';
export { readErrorBody, type ErrorBody } from './error-body.js';
export { isDroppable, refusesModel, unsupportedField } from './fields.js';
export { dialectFetch } from './dialect.js';
export { connectionOf, type Connection } from './connection.js';
export { embeddingChoice, embeddingModelOf, embeddingProblem, type EmbeddingChoice } from './embeddings.js';
export { FLEX_TIMEOUT_MS, billedTier, isFlexCapacity, serviceTierProblems, type BilledTier } from './service-tier.js';
