/**
 * Pretrained models by name: the Hugging Face Hub and its cache (issue 13). The one module of
 * BERT Lab that touches the network (http.ts holds its only `fetch`); everything else gets a
 * folder from `resolveModel` and stays offline.
 */
export { resolveModel, resolveModelFromCache, shardsOfIndex, TOKENIZER_FILES, SAFETENSORS_FILE, SAFETENSORS_INDEX } from './model.js';
export type { ResolveOptions, ResolvedModel } from './model.js';
export type { HubProgress, ProgressCallback } from './progress.js';
export { progressLine, progressLines } from './progress.js';
export { HubError, isHubError } from './errors.js';
export type { HubErrorCode } from './errors.js';
export { hubCacheDir, hfHome, hubToken, hubTokenPath, hubEndpoint, hubOffline, DEFAULT_ENDPOINT } from './env.js';
export { validateHubId, validateRevision, isCommitHash, repoFolderName, DEFAULT_REVISION } from './ids.js';
export { scanCache, deleteCachedModel, snapshotProblems } from './cache.js';
export type { CachedModel, CachedRevision } from './cache.js';
export { fmtBytes } from './download.js';
export { localModelPath, looksLikeHubId, ModelNotFoundError } from './resolve.js';
