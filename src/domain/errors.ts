/**
 * Every error Tollgate reports on purpose, in one list. Each has a stable code (scripts match on it),
 * an HTTP status, an exit code (DESIGN.md: 2 bad usage or input, 3 blocked by policy, 4 verification
 * failed) and a hint that says what to do. `docs/errors.md` lists the same codes; a test keeps them in step.
 */
export const ERRORS = {
  TG_USAGE: { status: 400, exit: 2, hint: 'Run `tollgate help COMMAND` for the command\'s arguments.' },
  TG_FILE_NOT_FOUND: { status: 400, exit: 2, hint: 'Check the path; relative paths are read from the current folder.' },
  TG_YAML_SYNTAX: { status: 400, exit: 2, hint: 'Fix the YAML syntax at the position shown.' },
  TG_POLICY_INVALID: { status: 400, exit: 2, hint: 'Fix the policy at the position shown; `tollgate policy check` lists every problem.' },
  TG_NO_POLICY: { status: 409, exit: 2, hint: 'Record a policy first: `tollgate policy apply tollgate.yaml`.' },
  TG_MANIFEST_INVALID: { status: 400, exit: 2, hint: 'Fix the release manifest at the position shown.' },
  TG_ARTIFACT_NOT_FOUND: { status: 400, exit: 2, hint: 'Artifact paths are read relative to the manifest\'s folder; give a `uri` with a `sha256` for remote artifacts.' },
  TG_RELEASE_CONFLICT: { status: 409, exit: 2, hint: 'A release is immutable: give the changed content a new version.' },
  TG_RELEASE_REF_INVALID: { status: 400, exit: 2, hint: 'Name a release as SUBJECT@VERSION, e.g. fraud-detector@2.4.0.' },
  TG_RELEASE_NOT_FOUND: { status: 404, exit: 2, hint: 'List known releases with `tollgate release list`.' },
  TG_STAGE_UNKNOWN: { status: 400, exit: 2, hint: 'Use a stage named in the active policy.' },
  TG_ITEM_UNKNOWN: { status: 400, exit: 2, hint: 'Use a checklist item of a gate that applies to this release at this stage; `tollgate status` lists them.' },
  TG_EVIDENCE_REQUIRED: { status: 400, exit: 2, hint: 'Attach the evidence with `--evidence FILE` or `--evidence URL`.' },
  TG_IDENTITY_REQUIRED: { status: 401, exit: 2, hint: 'Say who you are with `--as USER` or TOLLGATE_USER.' },
  TG_IDENTITY_MISMATCH: { status: 403, exit: 2, hint: 'Over --server the token says who you are: drop --as (and TOLLGATE_USER), or use the token of the person you name.' },
  TG_USER_UNKNOWN: { status: 403, exit: 2, hint: 'The user must be in the active policy\'s roster.' },
  TG_ROLE_NOT_HELD: { status: 403, exit: 2, hint: 'Sign off only in a role the roster gives you.' },
  TG_NOT_ALLOWED: { status: 403, exit: 2, hint: 'Ask someone who holds a role the requirement names.' },
  TG_SIGNOFF_NOT_REQUIRED: { status: 400, exit: 2, hint: 'No gate that applies to this release at this stage asks for a sign-off by this role; `tollgate status` lists the sign-offs wanted.' },
  TG_SIGNATURE_INVALID: { status: 400, exit: 2, hint: 'The sign-off must be signed with the key the roster holds for the signer.' },
  TG_TIME_INVALID: { status: 400, exit: 2, hint: 'Write the time as RFC 3339 in UTC, ending in Z: 2026-12-24T09:00:00Z (what `new Date().toISOString()` gives).' },
  TG_SIGNOFF_STALE: { status: 409, exit: 2, hint: 'The sign-off was drafted against a state that has changed (the evidence, the gate, the release) or too long ago: review it again and sign off again.' },
  TG_PASSKEY_INVALID: { status: 400, exit: 2, hint: 'The passkey registration did not verify: start again from "Register a passkey" on this server\'s own address (TOLLGATE_PUBLIC_URL) and complete it with user verification.' },
  TG_PASSKEY_NOT_FOUND: { status: 404, exit: 2, hint: 'List passkeys with `tollgate passkey list [USER]`; a reviewer registers one on the review desk ("Register a passkey").' },
  TG_PASSKEY_UNKNOWN: { status: 403, exit: 2, hint: 'Sign with a passkey registered to you and not revoked; `tollgate passkey list USER` shows them, or register a new one.' },
  TG_PASSKEY_CHALLENGE_MISMATCH: { status: 400, exit: 2, hint: 'The passkey signed another sign-off than the one sent (another release, gate, decision or time): ask for new sign-off options and sign again.' },
  TG_PASSKEY_ORIGIN_MISMATCH: { status: 400, exit: 2, hint: 'Sign off on the server\'s own address: the origin and RP ID come from TOLLGATE_PUBLIC_URL (`serve --public-url`), and the passkey must be registered for that host.' },
  TG_PASSKEY_USER_NOT_VERIFIED: { status: 400, exit: 2, hint: 'A sign-off needs user verification: use a passkey with a PIN, fingerprint or face check, and complete it.' },
  TG_PASSKEY_ASSERTION_INVALID: { status: 400, exit: 2, hint: 'The passkey assertion does not verify: sign again with the same passkey; a counter that went backwards may mean a cloned authenticator, so tell an admin.' },
  TG_RESULT_INVALID: { status: 400, exit: 2, hint: 'Run `tollgate validate` again against the active policy and the registered release.' },
  TG_VALIDATOR_UNKNOWN: { status: 400, exit: 2, hint: 'Use a built-in validator: `tollgate policy check` names them, and docs/validators.md describes each.' },
  TG_KEY_MISSING: { status: 400, exit: 2, hint: 'Create a key pair with `tollgate keys create USER` and put its public key in the roster.' },
  TG_KEY_MISMATCH: { status: 400, exit: 2, hint: 'Your private key does not match the roster\'s public key for you: update the roster or use the matching key.' },
  TG_KEY_EXISTS: { status: 409, exit: 2, hint: 'A key pair already exists for this user; remove it by hand first if you really mean to replace it.' },
  TG_KEY_INVALID: { status: 400, exit: 2, hint: 'A public key is written `ed25519:` followed by the base64 of its SubjectPublicKeyInfo DER.' },
  TG_ALREADY_INITIALIZED: { status: 409, exit: 2, hint: 'This folder already has a Tollgate home; use another folder or `--home`.' },
  TG_NOT_INITIALIZED: { status: 409, exit: 2, hint: 'Run `tollgate init` first, or point `--home` at an existing home folder.' },
  TG_NO_PREVIOUS_RELEASE: { status: 409, exit: 2, hint: 'Nothing to roll back to: the stage has had only one release.' },
  TG_STAGE_EMPTY: { status: 409, exit: 2, hint: 'No release of this subject holds the stage yet.' },
  TG_NOT_HELD: { status: 409, exit: 2, hint: 'Only a release a rollback took out of that stage is held there; `tollgate release show REL` lists its rollbacks.' },
  TG_INCIDENT_NOT_FOUND: { status: 404, exit: 2, hint: 'List incidents with `tollgate incident list`; resolve one by its id.' },
  TG_INCIDENT_RESOLVED: { status: 409, exit: 2, hint: 'The incident is already resolved; open a new one if the problem is back.' },
  TG_NOT_IN_STAGE: { status: 409, exit: 2, hint: 'Hand-offs are run again only for the release that holds the stage now; `tollgate release show REL` says which stages it holds.' },
  TG_NOT_PROMOTED: { status: 404, exit: 2, hint: 'Attest a promotion that happened: `tollgate release show` lists where the release was promoted.' },
  TG_VERIFY_FAILED: { status: 422, exit: 4, hint: 'Do not trust this record: it was changed, or signed by another key than the one given.' },
  TG_PROMOTION_BLOCKED: { status: 409, exit: 3, hint: 'Provide what `tollgate status` lists as missing, then promote again.' },
  TG_STATE_TAMPERED: { status: 409, exit: 4, hint: 'A stored row is not what the audit log vouches for: nothing is decided on it. Run `tollgate audit verify` to list every such row, restore the database from a backup and investigate who wrote to it.' },
  TG_ARTIFACT_MISMATCH: { status: 422, exit: 4, hint: 'Do not ship these files: they are not the bytes the release registered. Fetch the approved artifacts again, or register a new release for the new bytes.' },
  TG_SIGNOFF_PRECONDITION: { status: 409, exit: 3, hint: 'The sign-off rule asks for a state first (gates satisfied, the release in a stage); `tollgate status` shows what is missing.' },
  TG_AUDIT_BROKEN: { status: 500, exit: 4, hint: 'The audit log does not verify: restore it from a backup and investigate who changed the database.' },
  TG_REQUEST_INVALID: { status: 400, exit: 2, hint: 'Send a JSON body and query as the API reference at /openapi.json describes; every problem is listed.' },
  TG_REQUEST_TOO_LARGE: { status: 413, exit: 2, hint: 'Send less: evidence files are limited to 10 MiB, other requests to 1 MiB.' },
  TG_REQUEST_HEADERS_TOO_LARGE: { status: 431, exit: 2, hint: 'Send smaller headers (at most 16 KiB in all): a cookie or token that large is not one Tollgate issued.' },
  TG_REQUEST_TIMEOUT: { status: 408, exit: 2, hint: 'The request was not sent in time; send it again, in one go.' },
  TG_RATE_LIMITED: { status: 429, exit: 2, hint: 'Too many requests from this identity: wait for the seconds Retry-After gives, then try again (docs/operations.md lists the limits).' },
  TG_ROUTE_NOT_FOUND: { status: 404, exit: 2, hint: 'The server has no such API route; /openapi.json lists them (is the client newer than the server?).' },
  TG_TOKEN_INVALID: { status: 401, exit: 2, hint: 'Send `Authorization: Bearer <token>` with a token from `tollgate token create USER` (in TOLLGATE_TOKEN); ask an admin for a new one if it expired or was revoked.' },
  TG_CSRF_INVALID: { status: 403, exit: 2, hint: 'Reload the page and send the form again: every form of the review desk carries a token of the signed-in session.' },
  TG_TOKEN_NOT_FOUND: { status: 404, exit: 2, hint: 'List tokens with `tollgate token list`; revoke one by its id, not by the secret.' },
  TG_WEBHOOK_NOT_FOUND: { status: 404, exit: 2, hint: 'List webhooks with `tollgate webhook list`.' },
  TG_WEBHOOK_FORMAT_UNKNOWN: { status: 400, exit: 2, hint: 'Give `--format` one of json (Tollgate\'s own payload, the default), slack (a Block Kit message) or teams (an Adaptive Card message); docs/webhooks.md shows each.' },
  TG_WEBHOOK_URL_REFUSED: { status: 400, exit: 2, hint: 'Give a webhook URL whose host resolves to public addresses; a server that must reach a receiver on its own network is started with `serve --allow-private-webhooks` (docs/webhooks.md).' },
  TG_DATABASE_UNAVAILABLE: { status: 503, exit: 1, hint: 'Check the --database URL (or TOLLGATE_DATABASE_URL) and that PostgreSQL runs there and lets this user in.' },
  TG_DATABASE_INVALID: { status: 400, exit: 2, hint: 'Point --database (or TOLLGATE_DATABASE_URL) at a Tollgate SQLite file, a new file in an existing folder, or a postgres:// URL.' },
  TG_FILE_ACCESS: { status: 400, exit: 2, hint: 'Check the path: its folder must exist and be writable (for output) or readable (for input).' },
  TG_STORAGE_FULL: { status: 507, exit: 1, hint: 'Free space on the disk that holds the Tollgate home (or the PostgreSQL data), then run the command again: nothing of it was written.' },
  TG_STORAGE_ERROR: { status: 503, exit: 1, hint: 'The disk or file system under the database failed (full, read-only, failing): check it, then run the command again; `tollgate audit verify` confirms the record is whole.' },
  TG_SERVER_UNREACHABLE: { status: 503, exit: 1, hint: 'Check the --server URL (or TOLLGATE_SERVER) and that `tollgate serve` runs there; run without --server to use the local home.' },
  TG_INTERNAL: { status: 500, exit: 1, hint: 'This is a bug or an environment problem; the log has the details.' },
} as const;

export type ErrorCode = keyof typeof ERRORS;

/** One problem found in an input file, with where it is. */
export interface Problem {
  readonly file?: string;
  readonly line?: number;
  readonly col?: number;
  readonly path?: string;
  readonly message: string;
}

/** An error Tollgate reports on purpose: a stable code, a message a person can act on, and a hint. */
export class TollgateError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly exit: number;
  readonly hint: string;
  readonly problems: readonly Problem[];
  readonly details: unknown;

  constructor(code: ErrorCode, message: string, opts: { problems?: Problem[]; details?: unknown; hint?: string } = {}) {
    super(message);
    this.name = 'TollgateError';
    this.code = code;
    this.status = ERRORS[code].status;
    this.exit = ERRORS[code].exit;
    this.hint = opts.hint ?? ERRORS[code].hint;
    this.problems = opts.problems ?? [];
    this.details = opts.details;
  }

  toJSON(): Record<string, unknown> {
    return {
      error: {
        code: this.code,
        message: this.message,
        hint: this.hint,
        ...(this.problems.length > 0 ? { problems: this.problems } : {}),
        ...(this.details !== undefined ? { details: this.details } : {}),
      },
    };
  }
}

export function tollgateError(code: ErrorCode, message: string, opts?: { problems?: Problem[]; details?: unknown; hint?: string }): TollgateError {
  return new TollgateError(code, message, opts);
}

/** Formats a problem as `file:line:col: message`, the form editors and CI annotate. */
export function formatProblem(p: Problem): string {
  const where = [p.file, p.line, p.col].filter((x) => x !== undefined).join(':');
  return where ? `${where}: ${p.message}` : p.message;
}
