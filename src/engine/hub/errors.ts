/**
 * The one error type of the Hub module. `code` says what went wrong for callers that branch on
 * it (the CLI's exit status, the extension's "Retry" / "Open model page" buttons); the message
 * says it for people: what was asked, what was found, and what to do.
 */
export type HubErrorCode =
  | 'bad-id' // not a Hub id (path characters, shell characters, "..", too long)
  | 'bad-revision' // a revision that cannot be a branch, tag or commit
  | 'offline' // offline mode and the model is not (completely) in the cache
  | 'not-cached' // a cache-only lookup (resolveModelFromCache) found nothing usable
  | 'repo-not-found' // the Hub says RepoNotFound (or a 401 without a code: private or missing)
  | 'revision-not-found' // RevisionNotFound
  | 'entry-not-found' // a file the model needs is not in the repo (EntryNotFound)
  | 'unauthorized' // 401: no token or a bad one
  | 'forbidden' // 403: the token's account has no access (gated: terms not accepted)
  | 'server' // 5xx (after the retries) or another unexpected status
  | 'network' // the endpoint could not be reached (after the retries)
  | 'protocol' // the answer lacks what the Hub always sends (X-Repo-Commit, ETag, size)
  | 'integrity' // sha256 / git-sha1 / size of a downloaded file disagree with the Hub's metadata
  | 'truncated' // a blob in the cache is shorter than the Hub or its safetensors header says
  | 'disk-full' // ENOSPC / EDQUOT, or not enough free space for what is left to download
  | 'pickle-only' // the repo has pytorch_model.bin but no safetensors
  | 'no-weights' // the repo has no weights BERT Lab knows
  | 'bad-index' // model.safetensors.index.json is invalid or names shards outside the snapshot
  | 'lock-timeout' // another process kept the blob's download lock longer than allowed
  | 'aborted' // the caller's AbortSignal fired; partial files are kept for resuming
  | 'cache'; // the cache itself is damaged (a ref that is not a commit, a broken link)

export class HubError extends Error {
  override name = 'HubError';
  constructor(readonly code: HubErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
  }
}

export const isHubError = (e: unknown, code?: HubErrorCode): e is HubError => e instanceof HubError && (code === undefined || e.code === code);
