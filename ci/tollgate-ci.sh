#!/usr/bin/env bash
# The steps of Tollgate's CI templates (ci/github/action.yml, ci/gitlab/tollgate.gitlab-ci.yml), one
# sub-command each, so that both templates run the same logic and test/ci.templates.test.ts can run
# exactly what they run. See docs/ci.md.
#
#   tollgate-ci install     install the CLI (npm, tollgate@$TOLLGATE_VERSION) unless TOLLGATE_CLI names one
#   tollgate-ci register    register the release from $TOLLGATE_MANIFEST (or take $TOLLGATE_RELEASE)
#   tollgate-ci validate    run the stage's validations here and record the results on the server
#   tollgate-ci status      print every gate and requirement; fail (exit 3) when not promotable
#   tollgate-ci promote     promote when TOLLGATE_PROMOTE=true, then export (and verify) the attestation
#   tollgate-ci report      write the validation report and the status as JSON (run it even after a failure)
#
# Settings (environment): TOLLGATE_SERVER (required), TOLLGATE_STAGE (required), TOLLGATE_RELEASE
# and/or TOLLGATE_MANIFEST, TOLLGATE_PROMOTE (true|false), TOLLGATE_SERVER_KEY (ed25519:… or a
# file; verifies the attestation offline), TOLLGATE_OUT (the folder of the files to upload),
# TOLLGATE_DIR (where the release's files are, when not the current folder),
# TOLLGATE_CLI (a command that runs tollgate; default: `tollgate` on PATH), TOLLGATE_VERSION (for
# install), TOLLGATE_AUDIENCE (GitHub: the audience of the OIDC token; default tollgate).
#
# The token: TOLLGATE_TOKEN when set (GitLab's `id_tokens:`, or an API token); else, on GitHub
# Actions, a fresh OIDC token for each command from ACTIONS_ID_TOKEN_REQUEST_URL (the job needs
# `permissions: id-token: write`). It is never printed.
#
# Exit codes are the CLI's (0 done, 1 unexpected, 2 bad usage or input, 3 blocked by policy,
# 4 verification failed); every failure ends with one line saying what failed, as a GitHub error
# annotation on GitHub Actions.
set -euo pipefail
# The step's own stdout, where GitHub reads workflow commands (::error::, ::add-mask::), also from
# inside a command substitution whose output a variable takes.
exec 3>&1

STAGE="${TOLLGATE_STAGE:-}"
OUT="${TOLLGATE_OUT:-${RUNNER_TEMP:-${TMPDIR:-/tmp}}/tollgate-${STAGE:-out}}"
# An absolute folder, so that a later change of folder (working-directory) does not move it.
case "$OUT" in /*) ;; *) OUT="$PWD/$OUT" ;; esac
# Where the release's files are (GitLab; GitHub's steps have working-directory).
if [ -n "${TOLLGATE_DIR:-}" ]; then cd "$TOLLGATE_DIR"; fi

say() { printf '%s\n' "$*" >&2; }

# One line that says what failed, then the exit code.
fail() {
  local code="$1"
  shift
  if [ "${GITHUB_ACTIONS:-}" = "true" ]; then
    printf '::error title=Tollgate::%s\n' "$*" >&3
  else
    printf 'ERROR: %s\n' "$*" >&2
  fi
  exit "$code"
}

meaning() {
  case "$1" in
    2) echo "bad usage or invalid input (a refused token is TG_TOKEN_INVALID: see docs/oidc.md)" ;;
    3) echo "blocked by policy" ;;
    4) echo "verification failed" ;;
    *) echo "unexpected error" ;;
  esac
}

need() {
  local name="$1" hint="$2"
  if [ -z "${!name:-}" ]; then fail 2 "$name is not set: $hint"; fi
}

# The bearer token for the server: TOLLGATE_TOKEN, or a fresh GitHub Actions OIDC token.
token() {
  if [ -n "${TOLLGATE_TOKEN:-}" ]; then
    printf '%s' "$TOLLGATE_TOKEN"
    return
  fi
  if [ -z "${ACTIONS_ID_TOKEN_REQUEST_URL:-}" ] || [ -z "${ACTIONS_ID_TOKEN_REQUEST_TOKEN:-}" ]; then
    if [ "${GITHUB_ACTIONS:-}" = "true" ]; then
      fail 2 "no OIDC token: give the job 'permissions: id-token: write' (or pass an API token as the token input)"
    fi
    fail 2 "no token: set TOLLGATE_TOKEN (GitLab: 'id_tokens: TOLLGATE_TOKEN: aud: tollgate')"
  fi
  # Node is there anyway (the CLI needs it); curl and jq may not be.
  local jwt
  jwt="$(node -e '
    const url = new URL(process.env.ACTIONS_ID_TOKEN_REQUEST_URL);
    url.searchParams.set("audience", process.env.TOLLGATE_AUDIENCE || "tollgate");
    fetch(url, { headers: { authorization: `bearer ${process.env.ACTIONS_ID_TOKEN_REQUEST_TOKEN}`, accept: "application/json" } })
      .then(async (res) => {
        if (!res.ok) throw new Error(`HTTP ${res.status}`);
        const body = await res.json();
        if (typeof body.value !== "string") throw new Error("the answer has no value");
        process.stdout.write(body.value);
      })
      .catch((err) => { console.error(`the OIDC token request failed: ${err.message}`); process.exit(1); });
  ')" || fail 1 "could not get an OIDC token from GitHub (ACTIONS_ID_TOKEN_REQUEST_URL)"
  if [ "${GITHUB_ACTIONS:-}" = "true" ]; then printf '::add-mask::%s\n' "$jwt" >&3; fi
  printf '%s' "$jwt"
}

# The CLI as configured: TOLLGATE_CLI may be a command with arguments (`npx tollgate`).
cli() {
  # shellcheck disable=SC2086 # word splitting of TOLLGATE_CLI is meant
  ${TOLLGATE_CLI:-tollgate} "$@"
}

# The CLI against the server, with a token of its own.
remote() {
  need TOLLGATE_SERVER "the URL of the Tollgate server (input server-url)"
  local bearer
  bearer="$(token)" || exit $?
  TOLLGATE_TOKEN="$bearer" cli --server "$TOLLGATE_SERVER" "$@"
}

# Sets a step output on GitHub Actions (nothing elsewhere).
output() {
  if [ -n "${GITHUB_OUTPUT:-}" ]; then printf '%s=%s\n' "$1" "$2" >>"$GITHUB_OUTPUT"; fi
}

# The release this job works on, as `register` found it.
release_ref() {
  if [ -s "$OUT/release.txt" ]; then
    cat "$OUT/release.txt"
  elif [ -n "${TOLLGATE_RELEASE:-}" ]; then
    printf '%s' "$TOLLGATE_RELEASE"
  else
    fail 2 "no release: set release (SUBJECT@VERSION) or manifest, and run register first"
  fi
}

cmd_install() {
  if [ -n "${TOLLGATE_CLI:-}" ]; then
    say "using TOLLGATE_CLI: $TOLLGATE_CLI ($(cli --version))"
    return
  fi
  local prefix="${RUNNER_TEMP:-${TMPDIR:-/tmp}}/tollgate-cli"
  local spec="tollgate@${TOLLGATE_VERSION:-latest}"
  npm install --global --prefix "$prefix" --no-audit --no-fund "$spec" >&2 || fail 1 "npm could not install $spec"
  # Later steps of the job find it on PATH.
  if [ -n "${GITHUB_PATH:-}" ]; then printf '%s\n' "$prefix/bin" >>"$GITHUB_PATH"; fi
  say "installed $spec: $("$prefix/bin/tollgate" --version)"
}

cmd_register() {
  mkdir -p "$OUT"
  local ref="${TOLLGATE_RELEASE:-}"
  if [ -n "${TOLLGATE_MANIFEST:-}" ]; then
    local created rc=0
    created="$(remote release create "$TOLLGATE_MANIFEST" --json)" || rc=$?
    [ "$rc" -eq 0 ] || fail "$rc" "tollgate release create $TOLLGATE_MANIFEST failed (exit $rc: $(meaning "$rc"))"
    local name
    name="$(printf '%s' "$created" | node -e 'let t = ""; process.stdin.on("data", (d) => (t += d)).on("end", () => process.stdout.write(JSON.parse(t).release))')"
    if [ -n "$ref" ] && [ "$ref" != "$name" ]; then
      fail 2 "the manifest $TOLLGATE_MANIFEST is $name, not the release $ref"
    fi
    ref="$name"
    say "registered $ref from $TOLLGATE_MANIFEST"
  fi
  [ -n "$ref" ] || fail 2 "no release: set release (SUBJECT@VERSION) or manifest"
  printf '%s' "$ref" >"$OUT/release.txt"
  output release "$ref"
}

cmd_validate() {
  need TOLLGATE_STAGE "the stage to validate for (input stage)"
  local ref rc=0
  ref="$(release_ref)"
  remote validate "$ref" --to "$STAGE" || rc=$?
  [ "$rc" -eq 0 ] || fail "$rc" "tollgate validate $ref --to $STAGE failed (exit $rc: $(meaning "$rc"))"
}

cmd_status() {
  need TOLLGATE_STAGE "the stage to promote to (input stage)"
  local ref rc=0
  ref="$(release_ref)"
  remote status "$ref" --to "$STAGE" | tee "$OUT/status.txt" || rc=$?
  if [ -n "${GITHUB_STEP_SUMMARY:-}" ]; then
    { printf '### Tollgate: %s → %s\n\n```\n' "$ref" "$STAGE"; cat "$OUT/status.txt"; printf '```\n'; } >>"$GITHUB_STEP_SUMMARY"
  fi
  output promotable "$([ "$rc" -eq 0 ] && echo true || echo false)"
  if [ "$rc" -eq 3 ]; then
    # The unmet requirements, by name, in the one line a CI page shows first.
    local unmet="" json_rc=0
    remote status "$ref" --to "$STAGE" --json >"$OUT/status.json" || json_rc=$?
    if [ "$json_rc" -eq 3 ]; then
      unmet="$(node -e '
        const d = JSON.parse(require("node:fs").readFileSync(process.argv[1], "utf8"));
        const unmet = d.gates.flatMap((g) => g.requirements.filter((r) => r.outcome !== "satisfied").map((r) => `${g.id}/${r.id} ${r.outcome}`));
        process.stdout.write(unmet.join("; "));' "$OUT/status.json")" || unmet=""
    fi
    fail 3 "$ref is not promotable to $STAGE: ${unmet:-see the status above}"
  fi
  [ "$rc" -eq 0 ] || fail "$rc" "tollgate status $ref --to $STAGE failed (exit $rc: $(meaning "$rc"))"
}

cmd_promote() {
  need TOLLGATE_STAGE "the stage to promote to (input stage)"
  local ref rc=0
  ref="$(release_ref)"
  if [ "${TOLLGATE_PROMOTE:-false}" != "true" ]; then
    say "not promoting $ref to $STAGE: promote is off"
    output promoted false
    return
  fi
  remote promote "$ref" --to "$STAGE" || rc=$?
  [ "$rc" -eq 0 ] || fail "$rc" "tollgate promote $ref --to $STAGE failed (exit $rc: $(meaning "$rc"))"
  output promoted true
  # The signed record of this promotion travels with the job's artifacts.
  remote attest "$ref" --stage "$STAGE" -o "$OUT/attestation.json" || rc=$?
  [ "$rc" -eq 0 ] || fail "$rc" "tollgate attest $ref --stage $STAGE failed (exit $rc: $(meaning "$rc"))"
  output attestation "$OUT/attestation.json"
  if [ -n "${TOLLGATE_SERVER_KEY:-}" ]; then
    cli verify "$OUT/attestation.json" --key "$TOLLGATE_SERVER_KEY" || rc=$?
    [ "$rc" -eq 0 ] || fail "$rc" "the attestation of $ref → $STAGE does not verify with the server key (exit $rc: $(meaning "$rc"))"
  else
    say "the attestation is not verified here: set the server key (tollgate keys show --server) to verify it offline"
  fi
}

cmd_report() {
  if [ ! -s "$OUT/release.txt" ] && [ -z "${TOLLGATE_RELEASE:-}" ]; then
    say "no release was registered: no report"
    return
  fi
  mkdir -p "$OUT"
  local ref rc=0
  ref="$(release_ref)"
  remote report "$ref" -o "$OUT/report.html" || rc=$?
  [ "$rc" -eq 0 ] || fail "$rc" "tollgate report $ref failed (exit $rc: $(meaning "$rc"))"
  output report "$OUT/report.html"
  if [ -n "$STAGE" ]; then
    # Exit 3 (not promotable) is a status worth keeping too.
    remote status "$ref" --to "$STAGE" --json >"$OUT/status.json" || rc=$?
    [ "$rc" -eq 0 ] || [ "$rc" -eq 3 ] || fail "$rc" "tollgate status $ref --to $STAGE failed (exit $rc: $(meaning "$rc"))"
  fi
}

case "${1:-}" in
  install) cmd_install ;;
  register) cmd_register ;;
  validate) cmd_validate ;;
  status) cmd_status ;;
  promote) cmd_promote ;;
  report) cmd_report ;;
  *) fail 2 "usage: tollgate-ci install|register|validate|status|promote|report (got '${1:-}')" ;;
esac
