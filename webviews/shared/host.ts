// The webview's side of the host bridge: VS Code allows acquireVsCodeApi() once per page, so every webview
// gets it here, with a typed sender for its own contract.
declare function acquireVsCodeApi(): {
  postMessage(message: unknown): void;
  getState(): unknown;
  setState(state: unknown): void;
};

export const vscodeApi = acquireVsCodeApi();

/** A postMessage typed by the webview's FromWebview union. */
export function sender<Message>(): (message: Message) => void {
  return (message) => vscodeApi.postMessage(message);
}
