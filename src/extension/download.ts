/**
 * BERT Lab: Download Model…: a quick pick of well-known Hub ids (or any id, optionally
 * `id@revision`), downloaded into the Hugging Face cache with a progress notification whose
 * Cancel aborts the transfer (the partial file stays and resumes next time), then offers to
 * fine-tune from the model or open predictions with it.
 */
import * as vscode from 'vscode';
import { type HubProgress, type ResolvedModel, fmtBytes, isHubError, resolveModel, scanCache } from '../engine/hub/index.js';
import { LOADABLE_MODEL_TYPES, cacheDir, formatModelRef, mainRevision, offline, parseModelRef, whyNotLoadable } from './hub.js';

export interface WellKnownModel { id: string; family: string; /** config.json's model_type: the model loads when the registry has it. */ modelType: string; note: string }

export const WELL_KNOWN: readonly WellKnownModel[] = [
  { id: 'prajjwal1/bert-tiny', family: 'BERT', modelType: 'bert', note: '2 layers, 128 hidden: quick to try' },
  { id: 'bert-base-uncased', family: 'BERT', modelType: 'bert', note: 'the original, lower-cased English' },
  { id: 'bert-base-cased', family: 'BERT', modelType: 'bert', note: 'cased English' },
  { id: 'google-bert/bert-base-multilingual-cased', family: 'BERT', modelType: 'bert', note: '104 languages' },
  { id: 'sentence-transformers/all-MiniLM-L6-v2', family: 'BERT', modelType: 'bert', note: 'sentence embeddings, 6 layers (no MLM head)' },
  { id: 'distilbert-base-uncased', family: 'DistilBERT', modelType: 'distilbert', note: '6 layers, distilled from BERT' },
  { id: 'distilbert-base-uncased-finetuned-sst-2-english', family: 'DistilBERT', modelType: 'distilbert', note: 'a sentiment classifier, ready to predict' },
  { id: 'roberta-base', family: 'RoBERTa', modelType: 'roberta', note: 'BERT retrained without NSP' },
  { id: 'distilroberta-base', family: 'RoBERTa', modelType: 'roberta', note: '6 layers, distilled from RoBERTa' },
  { id: 'xlm-roberta-base', family: 'XLM-RoBERTa', modelType: 'xlm-roberta', note: '100 languages, SentencePiece vocabulary' },
  { id: 'google/electra-small-discriminator', family: 'ELECTRA', modelType: 'electra', note: 'small and strong for classification' },
  { id: 'google/electra-small-generator', family: 'ELECTRA', modelType: 'electra', note: 'the masked-LM generator: fill-mask' },
  { id: 'albert-base-v2', family: 'ALBERT', modelType: 'albert', note: 'layers share their weights: 12M parameters' },
];

/** What the pick says of a well-known model: its family, and whether this BERT Lab loads it. */
export const wellKnownDescription = (m: WellKnownModel): string => `${m.family} · ${LOADABLE_MODEL_TYPES.includes(m.modelType) ? 'loads' : 'not supported yet'}`;

/** The progress notification's message for one event: file, bytes of total, speed, time left. */
export function progressMessage(p: HubProgress): string {
  switch (p.phase) {
    case 'check': return `checking ${p.file}`;
    case 'wait': return `${p.file}: waiting for another download of it to finish`;
    case 'done':
    case 'download': {
      const file = `${p.file} ${fmtBytes(p.fileBytes)}${p.fileTotal !== undefined ? `/${fmtBytes(p.fileTotal)}` : ''}`;
      const total = p.total ? ` · ${fmtBytes(p.bytes)}/${fmtBytes(p.total)} in all` : '';
      const speed = p.bytesPerSecond > 0 ? ` · ${fmtBytes(p.bytesPerSecond)}/s` : '';
      const eta = p.etaSeconds !== undefined && p.phase === 'download' ? ` · ${Math.ceil(p.etaSeconds)} s left` : '';
      return file + total + speed + eta;
    }
  }
}

/** Asks for a model: a well-known id, or any id typed in (`id@revision` for another branch, tag or commit). */
export async function pickModelRef(): Promise<string | undefined> {
  const other = { label: '$(edit) Another model id…', description: 'org/name, or org/name@revision', id: '' };
  const items = WELL_KNOWN.map((m) => ({ label: m.id, description: wellKnownDescription(m), detail: m.note, id: m.id }));
  const pick = await vscode.window.showQuickPick([...items, other], { placeHolder: 'Model to download into the Hugging Face cache', matchOnDescription: true });
  if (!pick) return undefined;
  if (pick.id) return pick.id;
  const text = await vscode.window.showInputBox({
    prompt: 'Hugging Face Hub model id (a branch, tag or commit after "@")', placeHolder: 'org/name or org/name@revision',
    validateInput: (v) => (parseModelRef(v.trim()) ? undefined : 'a Hub id is "name" or "org/name" of letters, digits, "-", "_" and ".", optionally followed by "@revision"'),
  });
  return text?.trim() || undefined;
}

export interface DownloadDeps {
  /** Called after the cache changed (or may have): the Models view refreshes. */
  changed(): void;
}

/**
 * Downloads `ref` (asked for when absent). Resolves with the model, or undefined when cancelled
 * or failed (the user was told). Offline, a cached model resolves and any other is an error.
 */
export async function downloadModel(deps: DownloadDeps, ref?: string): Promise<ResolvedModel | undefined> {
  const text = ref ?? (await pickModelRef());
  if (!text) return undefined;
  const m = parseModelRef(text);
  if (!m) { void vscode.window.showErrorMessage(`BERT Lab: "${text}" is not a Hugging Face Hub model id ("name" or "org/name", optionally "@revision").`); return undefined; }
  const name = formatModelRef(m);
  const abort = new AbortController();
  let result: ResolvedModel;
  try {
    result = await vscode.window.withProgress({ location: vscode.ProgressLocation.Notification, title: `BERT Lab: downloading ${name}`, cancellable: true }, async (progress, token) => {
      token.onCancellationRequested(() => abort.abort());
      let done = 0; // percent reported so far
      return resolveModel(m.id, {
        revision: m.revision, offline: offline(), cacheDir: cacheDir(), signal: abort.signal, what: 'the model',
        onProgress: (p) => {
          const pct = p.total ? Math.min(100, (100 * p.bytes) / p.total) : done;
          progress.report({ message: progressMessage(p), increment: Math.max(0, pct - done) });
          done = Math.max(done, pct);
        },
      });
    });
  } catch (e) {
    deps.changed();
    if (isHubError(e, 'aborted') || abort.signal.aborted) void vscode.window.showInformationMessage(`BERT Lab: download of ${name} cancelled; what arrived stays in the cache and the next download resumes from there.`);
    else void vscode.window.showErrorMessage(`BERT Lab: ${(e as Error).message}`);
    return undefined;
  }
  deps.changed();
  void afterDownload(name, result);
  return result;
}

/** Says where the model is and offers what to do with it (when BERT Lab can load it). */
async function afterDownload(name: string, r: ResolvedModel): Promise<void> {
  const cached = scanCache(cacheDir()).find((x) => x.id === r.id);
  const rev = cached?.revisions.find((x) => x.commit === r.commit) ?? (cached && mainRevision(cached));
  const why = rev ? whyNotLoadable(rev) : undefined;
  const what = r.downloaded.length ? `downloaded ${r.downloaded.length} file${r.downloaded.length > 1 ? 's' : ''}` : 'already in the cache';
  if (why) { void vscode.window.showWarningMessage(`BERT Lab: ${name} ${what}, but BERT Lab cannot load it yet: ${why}.`); return; }
  const a = await vscode.window.showInformationMessage(`BERT Lab: ${name} ${what} (${r.folder}).`, 'Fine-tune from It', 'Open Predictions');
  if (a === 'Fine-tune from It') await vscode.commands.executeCommand('bertLab.fineTuneFromModel', name);
  else if (a === 'Open Predictions') await vscode.commands.executeCommand('bertLab.openPredictions', name);
}
