/**
 * The run configuration language server (dist/languageServer.js). VS Code starts it over IPC; other editors
 * run `node dist/languageServer.js --stdio`. The transport comes from the command line (--node-ipc, --stdio,
 * --socket=N), as vscode-languageserver reads it.
 *
 * initializationOptions: `{ dockerHost?: string }` (the mlw.dockerHost setting; empty: DOCKER_HOST or the local socket).
 */
import { fileURLToPath } from 'node:url';
import { CodeActionKind, ProposedFeatures, TextDocumentSyncKind, TextDocuments, createConnection } from 'vscode-languageserver/node';
import { TextDocument } from 'vscode-languageserver-textdocument';
import { machineEnvironment } from './environment';
import { codeActions, complete, diagnose, hover, isRunConfigPath } from './service';

/** Diagnostics wait for a pause in typing, so a burst of keystrokes parses once. */
const VALIDATE_DELAY_MS = 200;

const connection = createConnection(ProposedFeatures.all);
const documents = new TextDocuments(TextDocument);
let dockerHost: string | undefined;
const env = machineEnvironment(() => dockerHost);
const pending = new Map<string, NodeJS.Timeout>();

const fileOf = (uri: string): string | undefined => {
  if (!uri.startsWith('file:')) return undefined;
  const file = fileURLToPath(uri);
  return isRunConfigPath(file) ? file : undefined;
};

connection.onInitialize((params) => {
  const options = params.initializationOptions as { dockerHost?: unknown } | undefined;
  if (typeof options?.dockerHost === 'string') dockerHost = options.dockerHost;
  return {
    capabilities: {
      textDocumentSync: TextDocumentSyncKind.Incremental,
      completionProvider: { triggerCharacters: [':', ' ', '/', '"'] },
      hoverProvider: true,
      codeActionProvider: { codeActionKinds: [CodeActionKind.QuickFix] },
    },
    serverInfo: { name: 'ML Workbench run configurations' },
  };
});

connection.onDidChangeConfiguration((change) => {
  const host = (change.settings as { mlw?: { dockerHost?: unknown } } | undefined)?.mlw?.dockerHost;
  if (typeof host === 'string') dockerHost = host;
  for (const doc of documents.all()) schedule(doc, 0);
});

// A script created, deleted or renamed: "does not exist" may have become true or false in any open config.
connection.onDidChangeWatchedFiles(() => {
  for (const doc of documents.all()) schedule(doc);
});

function schedule(doc: TextDocument, delay = VALIDATE_DELAY_MS): void {
  clearTimeout(pending.get(doc.uri));
  pending.set(doc.uri, setTimeout(() => void validate(doc.uri, doc.version), delay));
}

async function validate(uri: string, version: number): Promise<void> {
  pending.delete(uri);
  const doc = documents.get(uri);
  const file = fileOf(uri);
  if (!doc || !file) return;
  try {
    const diagnostics = await diagnose(file, doc.getText(), env);
    // A newer edit has its own validation coming; this result would flash stale problems.
    if (documents.get(uri)?.version !== version) return;
    await connection.sendDiagnostics({ uri, version, diagnostics });
  } catch (err) {
    connection.console.error(`Checking ${file} failed: ${(err as Error).stack ?? err}`);
  }
}

documents.onDidOpen((e) => schedule(e.document, 0));
documents.onDidChangeContent((e) => schedule(e.document));
documents.onDidClose((e) => {
  clearTimeout(pending.get(e.document.uri));
  pending.delete(e.document.uri);
  void connection.sendDiagnostics({ uri: e.document.uri, diagnostics: [] });
});

connection.onCompletion(async (params) => {
  const doc = documents.get(params.textDocument.uri);
  const file = fileOf(params.textDocument.uri);
  if (!doc || !file) return [];
  return complete(file, doc.getText(), params.position, env);
});

connection.onHover(async (params) => {
  const doc = documents.get(params.textDocument.uri);
  if (!doc || !fileOf(params.textDocument.uri)) return null;
  return hover(doc.getText(), params.position, env);
});

connection.onCodeAction(async (params) => {
  const doc = documents.get(params.textDocument.uri);
  const file = fileOf(params.textDocument.uri);
  if (!doc || !file) return [];
  return codeActions(params.textDocument.uri, file, doc.getText(), params.context.diagnostics, env);
});

// Lets a client (and the tests) tell a restarted server from the one before it.
connection.onRequest('mlw/serverProcess', () => ({ pid: process.pid }));

documents.listen(connection);
connection.listen();
