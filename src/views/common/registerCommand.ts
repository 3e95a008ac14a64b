import * as vscode from 'vscode';
import type { CommandId } from './commandIds';
import { showError } from './userErrors';

/**
 * Registers a command from the table. A handler that throws shows the error as every command does
 * (showError) and resolves to undefined, so handlers need no try/catch of their own.
 */
export function registerCommand<Args extends unknown[], R>(id: CommandId, handler: (...args: Args) => R | Promise<R>): vscode.Disposable {
  return vscode.commands.registerCommand(id, async (...args: unknown[]) => {
    try {
      return await handler(...(args as Args));
    } catch (err) {
      await showError(err);
      return undefined;
    }
  });
}
