// The webview's side of the host bridge: VS Code allows acquireVsCodeApi() once per page, so every webview
// gets it here (bootstrap.ts sends through it; webviews save their state with it).
declare function acquireVsCodeApi(): {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
};

export const vscodeApi = acquireVsCodeApi();

