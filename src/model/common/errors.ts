/**
 * An error whose message is written for the user: it says what went wrong and what to do about it.
 * The UI shows it as is (with its actions); anything else is reported as an unexpected failure.
 */
export class UserFacingError extends Error {
  constructor(
    message: string,
    /** Optional follow-up the UI may offer as a button, e.g. a setting to open. */
    readonly action?: { label: string; command: string; args?: unknown[] },
  ) {
    super(message);
    this.name = 'UserFacingError';
  }
}
