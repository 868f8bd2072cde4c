/**
 * A password or ACL file that cannot be used. Every problem is listed at once, each with its line
 * number, so one deploy fixes them all; nothing secret (a hash, a password) is ever quoted.
 */

export class AuthFileError extends Error {
  constructor(
    /** The setting the file came from, e.g. "PASSWORD_FILE". */
    readonly setting: string,
    readonly problems: readonly string[],
  ) {
    super(`${setting}: ${problems.join("; ")}`);
    this.name = "AuthFileError";
  }
}
