import type { Browser } from 'playwright-core';
import { CodeServer, CodeServerOptions, launchChromium, startCodeServer } from './codeServer';
import { WorkbenchDriver } from './workbenchDriver';

export interface LaunchedWorkbench {
  ui: WorkbenchDriver;
  server: CodeServer;
  browser: Browser;
  /** Closes the browser and stops code-server; safe to call twice, never throws. */
  close(): Promise<void>;
}

/**
 * The end-to-end tests' start: code-server on `workspace` with the extension, Chromium on its page, and the
 * workbench showing the folder `folderName` in the explorer. What fails on the way is cleaned up before it throws.
 */
export async function launchWorkbench(workspace: string, options: CodeServerOptions & { folderName?: string } = {}): Promise<LaunchedWorkbench> {
  const server = await startCodeServer(workspace, options);
  let browser: Browser | undefined;
  const close = async () => {
    await browser?.close().catch(() => undefined);
    await server.stop().catch(() => undefined);
  };
  try {
    const launched = await launchChromium();
    browser = launched.browser;
    const ui = new WorkbenchDriver(launched.page, () => server);
    await ui.page.goto(server.url(workspace));
    await ui.waitForWorkbench(options.folderName ?? 'scripts');
    return { ui, server, browser, close };
  } catch (err) {
    await close();
    throw err;
  }
}
