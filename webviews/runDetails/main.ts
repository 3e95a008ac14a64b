// Browser side of the run details webview (the Run History issue fills it in). For now it announces itself,
// which proves the webview bundle is built and loadable.
declare function acquireVsCodeApi(): { postMessage(message: unknown): void };

const vscodeApi = acquireVsCodeApi();
vscodeApi.postMessage({ type: 'ready' });
