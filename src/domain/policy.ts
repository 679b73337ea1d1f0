/**
 * The policy file (`tollgate.yaml`): schema, the checks that need the whole file (known stages and
 * roles, unique ids, no cycles), and the digests that evidence binds to. Pure: text in, data out.
 */
import { createPublicKey } from 'node:crypto';
import * as z from 'zod';
import { checkCondition } from './cel.js';
import type { Digest } from './digest.js';
import { checkInterval, DURATION_PATTERN, INTERVAL_PATTERN, isValidDuration } from './duration.js';
import { withJsonSchemaForm } from './json-schema-form.js';
import { checkRecurring } from './freeze.js';
import { TollgateError, tollgateError, type Problem } from './errors.js';
import type { HandoffDef, Policy } from './model.js';
import {
  formatPath,
  formatProblems,
  isPlainObject,
  loadYaml,
  sortProblems,
  validateYaml,
  valueAt,
  type YamlPath,
  type YamlSource,
} from './yaml-source.js';

// The digests and roster lookups live apart from the parser (zod, YAML), so that a decision loads
// neither; they are re-exported here for the parser's callers.
export { ADMIN_ROLE } from './model.js';
export { gateDigest, holdersOf, itemDigest, NAME_PATTERN, policyDigest, rolesOf, validationDigest } from './policy-digests.js';
import { NAME_PATTERN, policyDigest } from './policy-digests.js';
import { minOf } from './bounded.js';
const NAME_RULE = 'must start with a letter or digit and hold only letters, digits, ".", "_" and "-"';

const PUBLIC_KEY_PREFIX = 'ed25519:';

// ---------------------------------------------------------------- schema

/** A string checked by `check`, which returns a message for a bad value. */
function checkedString(check: (v: string) => string | undefined) {
  return z.string().superRefine((v, ctx) => {
    const message = check(v);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message });
  });
}

// The `pattern`s below are for the JSON Schemas only (editors check with them); parsing goes by the
// checks, whose messages say what is wrong. Each pattern accepts exactly what its check does, or
// more where JSON Schema cannot say it (a CEL expression, a time zone).
const identifier = checkedString((v) => (v === '' ? 'must not be empty' : NAME_PATTERN.test(v) ? undefined : `${JSON.stringify(v)} ${NAME_RULE}`)).meta({
  pattern: NAME_PATTERN.source,
});

const condition = checkedString(checkCondition);
const text = z.string().min(1);

/**
 * An Ed25519 key as the roster holds it: `ed25519:` + the base64 of its 44-byte SubjectPublicKeyInfo
 * DER, whose first 12 bytes are the same for every Ed25519 key; the last character before `=` carries
 * 2 bits of padding, which canonical base64 leaves zero.
 */
const ED25519_KEY_PATTERN = '^ed25519:MCowBQYDK2VwAyEA[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$';

const RosterEntrySchema = z.strictObject({
  roles: z.array(identifier).min(1).describe('The roles this person holds: what they may sign off, check or act on. `admin` may apply policies and manage tokens and webhooks; `validator` may record validation results.'),
  key: checkedString(checkPublicKey)
    .meta({ pattern: ED25519_KEY_PATTERN })
    .describe('Their Ed25519 public key, as `tollgate keys create` and `tollgate keys show` print it: "ed25519:" + base64 of its SubjectPublicKeyInfo DER. Their sign-offs are signed with it; every person has their own key.'),
});

const RecurringFreezeSchema = z
  .strictObject({
    cron: text.describe('A five-field cron expression (minute hour day-of-month month day-of-week; six fields with seconds first also work) for when the window starts, read by croner.'),
    duration: text.meta({ pattern: DURATION_PATTERN }).describe('How long each window lasts: a number and a unit, e.g. 64h, 2d or 1h30m.'),
    timezone: text.describe('The IANA time zone the cron expression is read in, e.g. Europe/Berlin, America/New_York or UTC.'),
  })
  .superRefine((v, ctx) => {
    const message = checkRecurring(v);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message });
  })
  .describe('A recurring freeze window: starts whenever the cron expression fires, in its time zone, and lasts its duration.');

// ---------------------------------------------------------------- hand-offs (docs/handoff.md)

const duration = (example: string) =>
  checkedString((v) => (isValidDuration(v) ? undefined : `invalid duration ${JSON.stringify(v)}: write a number and a unit, e.g. ${example}`)).meta({
    pattern: DURATION_PATTERN,
  });

/** Text handed to `git` or a program as an argument: never read as one of its options. */
const BRANCH_NAME = /^(?!-)(?!.*\.\.)(?!.*\/\/)[A-Za-z0-9._\/-]+(?<![./])$/;
const WEBHOOK_TARGET = /^(?:https?:\/\/[^\s]+|whk_[0-9a-f]+)$/;

const notAnOption = (what: string) =>
  checkedString((v) => (v === '' ? `${what} must not be empty` : v.startsWith('-') ? `${what} must not start with "-"` : undefined)).meta({ pattern: '^[^-]' });

const HandoffGitSchema = z
  .strictObject({
    git: z
      .strictObject({
        repo: notAnOption('repo').describe('The repository to push to: a path on the machine that runs the hand-off, or any URL `git push` takes (https://…, ssh://…, git@host:path). Push to a bare repository or a remote.'),
        branch: checkedString((v) =>
          BRANCH_NAME.test(v) ? undefined : `branch ${JSON.stringify(v)} is not a branch name: letters, digits, ".", "_", "-" and "/"`,
        )
          .meta({ pattern: BRANCH_NAME.source })
          .optional()
          .describe('The branch to commit to (default main); a new branch starts from nothing.'),
        file: checkedString((v) =>
          v === '' || v.startsWith('/') || v.split('/').some((seg) => seg === '..' || seg === '.git' || seg === '')
            ? `file ${JSON.stringify(v)} must be a path inside the repository: relative, without "..", "//" or ".git"`
            : undefined,
        )
          .meta({ pattern: String.raw`^(?!/)(?!(?:.*/)?(?:\.\.|\.git)(?:/|$))(?!.*//)(?!.*/$).+$` })
          .describe('The file to write, relative to the repository: the release as JSON, or (with set) the YAML file one field of which is set.'),
        set: z
          .strictObject({
            path: checkedString((v) => (v !== '' && v.split('.').every((seg) => seg !== '') ? undefined : `path ${JSON.stringify(v)} must be field names (or list indexes) joined by ".", e.g. image.tag`))
              .meta({ pattern: String.raw`^[^.]+(?:\.[^.]+)*$` })
              .describe('The field to set: map keys and list indexes joined by ".", e.g. image.tag or images.0.newTag.'),
            // YAML reads `value: 2` as a number; the field is set to the text as written.
            value: z
              .union([z.string(), z.number(), z.boolean()])
              .transform(String)
              .describe('The value to write, a template: {subject}, {version}, {release}, {stage}, {releaseDigest}, {promotion.id}, {artifact.NAME.sha256}, {artifact.NAME.uri}, {artifact.NAME.path}.'),
          })
          .optional()
          .describe('Set one field of an existing YAML file (a Helm values file, a Kustomize image tag) instead of writing the release as JSON; every other byte of the file stays as it was.'),
      })
      .describe('Write the release to a Git repository (GitOps: Argo CD, Flux): commit the file and push.'),
  })
  .describe('A hand-off that commits the release to a Git repository.');

const HandoffCommandSchema = z
  .strictObject({
    command: z
      .array(z.string())
      .min(1, { error: 'command must name a program and its arguments' })
      .refine((a) => a[0] !== '', { error: 'command must name a program first' })
      .meta({ prefixItems: [{ type: 'string', minLength: 1 }] })
      .describe('A program and its arguments (no shell), run with the release as JSON on standard input, e.g. [./scripts/deploy.sh, production].'),
    timeout: duration('30s, 5m').optional().describe('How long the command may run before it is stopped (default 60s), e.g. 30s or 5m.'),
  })
  .describe('A hand-off that runs a command (a deploy script, a CI trigger).');

const HandoffWebhookSchema = z
  .strictObject({
    webhook: checkedString((v) =>
      WEBHOOK_TARGET.test(v) ? undefined : `webhook ${JSON.stringify(v)} must be an http(s) URL or the id of a registered webhook (whk_…, \`tollgate webhook list\`)`,
    )
      .meta({ pattern: WEBHOOK_TARGET.source })
      .describe('An http(s) URL to post the release to, or the id of a registered webhook (whk_…, `tollgate webhook list`): its URL, signed with its secret.'),
    timeout: duration('10s, 1m').optional().describe('How long to wait for a 2xx answer (default 10s), e.g. 10s or 1m.'),
  })
  .describe('A hand-off that posts the release to a URL.');

const HANDOFF_SCHEMAS = { git: HandoffGitSchema, command: HandoffCommandSchema, webhook: HandoffWebhookSchema } as const;

/**
 * One hand-off: a map with exactly one of `git`, `command`, `webhook`. Chosen by its key first, so a
 * problem is reported at its field (a plain union of three maps could only say "another value").
 */
const HandoffSchema = z.unknown().transform((v, ctx): HandoffDef => {
  const kinds = isPlainObject(v) ? (Object.keys(HANDOFF_SCHEMAS) as (keyof typeof HANDOFF_SCHEMAS)[]).filter((k) => Object.hasOwn(v, k)) : [];
  if (kinds.length !== 1) {
    ctx.addIssue({
      code: 'custom',
      message:
        kinds.length > 1
          ? `a hand-off is one of git, command or webhook, not ${kinds.join(' and ')}: write one entry each`
          : 'a hand-off is a map with one of git, command or webhook: { git: { repo, file } }, { command: [program, args…] } or { webhook: URL }',
    });
    return z.NEVER;
  }
  const result = HANDOFF_SCHEMAS[kinds[0]!].safeParse(v);
  if (!result.success) {
    for (const issue of result.error.issues) ctx.addIssue(issue as Parameters<typeof ctx.addIssue>[0]);
    return z.NEVER;
  }
  return result.data as HandoffDef;
});
withJsonSchemaForm(HandoffSchema, z.union([HandoffGitSchema, HandoffCommandSchema, HandoffWebhookSchema]).describe('One hand-off: a map with exactly one of git, command or webhook.'));

const roleList = (description: string) => z.array(identifier).min(1).optional().describe(description);

const StageSchema = z
  .strictObject({
    name: identifier.describe('The stage\'s name, e.g. staging or production: what `--to` and a gate\'s `stage` name.'),
    after: identifier.optional().describe('The stage a release must have been in first (stages form a path or DAG).'),
    freeze: z
      .array(
        z.union([
          checkedString(checkInterval)
            .meta({ pattern: INTERVAL_PATTERN })
            .describe('A one-off freeze window START/END, both timestamps with a zone, e.g. 2026-12-24T00:00:00Z/2026-12-27T00:00:00Z.'),
          RecurringFreezeSchema,
        ]),
      )
      .optional()
      .describe('Freeze windows: no promotion into the stage while one is open. Each is START/END or a recurring { cron, duration, timezone }.'),
    soak: checkedString((v) =>
      isValidDuration(v) ? undefined : `invalid duration ${JSON.stringify(v)}: write a number and a unit, e.g. 30m, 24h, 7d or 1h30m`,
    )
      .meta({ pattern: DURATION_PATTERN })
      .optional()
      .describe('How long the release must have held the `after` stage before it may enter this one, e.g. 24h. Needs `after`.'),
    promoters: roleList('The roles that may promote into the stage (default: any roster member).'),
    rollback: roleList('The roles that may roll the stage back (default: any roster member).'),
    clear: roleList('The roles that may lift the hold a rollback put on a release for this stage (`tollgate release clear`; default: release-manager, admin).'),
    breakGlass: z
      .lazy(() => BreakGlassSchema)
      .optional()
      .describe('Allows an emergency promotion past unmet gate requirements (`promote --break-glass --reason`), with a break-glass sign-off by this role; marked everywhere.'),
    handoff: z
      .array(HandoffSchema)
      .min(1)
      .optional()
      .describe('What to tell the deployment each time a release enters the stage: write it to a Git repository, run a command or post it to a URL. Runs after the promotion commits (docs/handoff.md).'),
  })
  // Said by crossCheck too (with its message); here so that editors say it. (if/then rather than
  // 2020-12's dependentRequired: the YAML language server reads draft-07.)
  .meta({ if: { required: ['soak'] }, then: { required: ['after'] } })
  .describe('A place a release is promoted into.');

const ChecklistItemSchema = z
  .strictObject({
    id: identifier.describe('The item\'s id, unique in its gate: what `tollgate check REL ITEM` names.'),
    text: text.optional().describe('What the item asks for, as people read it.'),
    evidence: z.enum(['required', 'optional']).optional().describe('Whether completing the item needs evidence (`--evidence FILE|URL`): required or optional (default).'),
    roles: z.array(identifier).min(1).optional().describe('The roles that may complete the item (default: any roster member).'),
    when: condition.optional().describe('A CEL condition on the release (e.g. "release.risk in [\'high\', \'critical\']"): the item applies only when it holds.'),
  })
  .describe('A checklist item: completed with `tollgate check`, with evidence where it says so.');

/** A break-glass follow-up item: a checklist item without `when`, since it follows every break-glass promotion. */
const FollowUpItemSchema = ChecklistItemSchema.meta({
  // Said by crossCheck (with its message); here so that editors say it.
  not: { required: ['when'] },
  description: 'What must follow a break-glass promotion: a checklist item (without when) on the promoted release.',
});

const BreakGlassSchema = z
  .strictObject({
    role: identifier.describe('The role whose break-glass sign-off a break-glass promotion needs; not the promoter\'s nor the release owner\'s.'),
    followUp: z.array(FollowUpItemSchema).min(1).optional().describe('Checklist items that must follow every break-glass promotion, e.g. a post-incident review.'),
  })
  .describe('Break-glass: an emergency promotion past unmet gate requirements, signed off by this role.');

const SignoffRuleSchema = z
  .strictObject({
    role: identifier.describe('The role whose members sign off.'),
    // One sign-off is what people mean when they name a role and no count.
    count: z.number().int().min(1).default(1).describe('How many members of the role must sign off (default 1); one person counts once per gate.'),
    when: condition.optional().describe('A CEL condition on the release (e.g. "release.risk in [\'high\', \'critical\']"): the rule applies only when it holds.'),
    after: z.array(identifier).min(1).optional().describe('Gates that must be satisfied before this sign-off may be given.'),
    inStage: identifier.optional().describe('A stage the release must hold before this sign-off may be given.'),
    staleOnNewEvidence: z.boolean().optional().describe('When true, evidence recorded after a sign-off (a new validation result, a checklist completion) makes it stale; by default a sign-off keeps counting.'),
  })
  .describe('A sign-off rule: how many people of a role must sign off (`tollgate signoff`).');

/**
 * A gate's sign-off rules: a list, or `{ rules: [...], staleOnNewEvidence: true }` to say it once for
 * every rule. Both read as the list; the map form sets each rule's own flag where the rule does not.
 */
const SignoffsSchema = z
  .union([
    z.array(SignoffRuleSchema),
    z.strictObject({
      rules: z.array(SignoffRuleSchema).describe('The sign-off rules.'),
      staleOnNewEvidence: z.boolean().optional().describe('staleOnNewEvidence for every rule that does not set its own.'),
    }),
  ])
  .transform((s) =>
    Array.isArray(s)
      ? s
      : s.staleOnNewEvidence === undefined
        ? s.rules
        : s.rules.map((r) => ({ ...r, staleOnNewEvidence: r.staleOnNewEvidence ?? s.staleOnNewEvidence })),
  );

export const ValidationSchema = z
  .strictObject({
    id: identifier.describe('The validation\'s id, unique in its gate: what `tollgate validate --only` names.'),
    uses: text.describe('The validator that runs it: junit, sarif, schema, drift, metrics, parity, slices, command, http, … (docs/validators.md).'),
    // Plain JSON only: the definition is digested with canonical JSON.
    with: z.record(z.string(), z.json()).optional().describe('The validator\'s inputs and thresholds (docs/validators.md); paths are relative to the policy\'s folder, `artifact:NAME` names a release artifact.'),
    when: condition.optional().describe('A CEL condition on the release: the validation applies only when it holds.'),
  })
  .describe('An automated validation, run by `tollgate validate` and recorded as evidence.');

const requirementList = { type: 'array', minItems: 1 } as const;

const GateSchema = z
  .strictObject({
    id: identifier.describe('The gate\'s id, unique in the policy.'),
    stage: identifier.describe('The stage this gate guards: a release enters it only when the gate is satisfied.'),
    when: condition.optional().describe('A CEL condition on the release (e.g. "release.risk == \'high\'"): the gate applies only when it holds.'),
    separationOfDuties: z.boolean().optional().describe('When true, sign-offs by the release owner and by the person promoting do not count.'),
    expires: checkedString((v) =>
      isValidDuration(v) ? undefined : `invalid duration ${JSON.stringify(v)}: write a number and a unit, e.g. 30m, 168h, 7d or 1h30m`,
    )
      .meta({ pattern: DURATION_PATTERN })
      .optional()
      .describe('How long a sign-off stays valid, e.g. 168h or 7d; older ones are expired.'),
    checklist: z.array(ChecklistItemSchema).optional().describe('Checklist items, completed with `tollgate check`.'),
    signoffs: SignoffsSchema.optional().describe('Sign-off rules: a list, or { rules: [...], staleOnNewEvidence: true } to set staleOnNewEvidence for every rule.'),
    validations: z.array(ValidationSchema).optional().describe('Automated validations, run with `tollgate validate`.'),
    waivers: roleList('The roles that may waive a requirement of this gate, with a reason and an expiry.'),
  })
  // Said by crossCheck too (with its message); here so that editors say it: a gate with nothing to meet.
  .meta({
    anyOf: [
      { required: ['checklist'], properties: { checklist: requirementList } },
      { required: ['validations'], properties: { validations: requirementList } },
      { required: ['signoffs'], properties: { signoffs: { anyOf: [requirementList, { type: 'object', required: ['rules'], properties: { rules: requirementList } }] } } },
    ],
  })
  .describe('A named group of requirements for entering one stage: a checklist, sign-offs and validations.');

export const PolicySchema = z
  .strictObject({
    apiVersion: z.literal('tollgate/v1').describe('The policy format: tollgate/v1.'),
    kind: z.literal('Policy').describe('What the file is: Policy.'),
    name: text.describe('The policy\'s name, e.g. fraud-platform.'),
    roster: z
      .record(
        checkedString((v) => (NAME_PATTERN.test(v) ? undefined : `user name ${JSON.stringify(v)} ${NAME_RULE}`)).meta({ pattern: NAME_PATTERN.source }),
        RosterEntrySchema.describe('A roster member: their roles and public key.'),
      )
      .describe('The people who act on releases, by user name (`--as USER`): their roles and public keys.'),
    stages: z.array(StageSchema).min(1).describe('The stages a release is promoted into, e.g. staging and production.'),
    gates: z.array(GateSchema).describe('The gates: what a release must show before it enters each stage.'),
  })
  .meta({
    title: 'Tollgate policy (tollgate.yaml)',
    description: 'The versioned policy: stages, the roster (people, roles, public keys), gates and freeze windows. `tollgate policy check` lints it; `tollgate policy apply` records it.',
  });

// ---------------------------------------------------------------- parse and check

/** The stage fields that name roles (who may act on the stage). */
const STAGE_ROLE_FIELDS = ['promoters', 'rollback', 'clear'] as const;

/**
 * Parses and checks a policy. Throws TG_YAML_SYNTAX for broken YAML and TG_POLICY_INVALID with
 * every problem (each `file:line:col`) otherwise; the message holds one problem a line.
 * The policy is returned deeply frozen, with sign-off `count` defaulted to 1 and nothing else added.
 */
export function parsePolicy(source: string, file: string, options: PolicyOptions = {}): { policy: Policy; digest: Digest } {
  const src = loadYaml(source, file);
  const { policy, problems } = analyse(src, options);
  if (problems.length > 0 || policy === undefined) {
    throw tollgateError('TG_POLICY_INVALID', formatProblems(problems), { problems });
  }
  return { policy, digest: policyDigest(policy) };
}

/** Every problem in a policy, YAML syntax included, in reading order; empty when it is valid. */
export function checkPolicy(source: string, file: string, options: PolicyOptions = {}): Problem[] {
  try {
    return analyse(loadYaml(source, file), options).problems;
  } catch (err) {
    if (err instanceof TollgateError && err.code === 'TG_YAML_SYNTAX') return [...err.problems];
    throw err;
  }
}

/** What the policy is checked against beyond its own schema. */
export interface PolicyOptions {
  /**
   * The `with` schema of each validator by name: a validation naming another validator, or a `with`
   * its validator does not accept, is a problem at its position. The domain knows no validators
   * itself (they do I/O), so the caller passes their schemas in.
   */
  readonly validators?: ReadonlyMap<string, z.ZodType>;
}

function analyse(src: YamlSource, options: PolicyOptions): { policy?: Policy; problems: Problem[] } {
  const validated = validateYaml(src, PolicySchema, { describe: describePolicyPath });
  // Whole-file checks run even when the schema found problems, so one run lists everything; they
  // read the raw data defensively and skip what the schema already reports.
  const problems = sortProblems([...(validated.ok ? [] : validated.problems), ...crossCheck(src), ...checkValidatorArgs(src, options)]);
  if (!validated.ok || problems.length > 0) return { problems };
  const policy: Policy = validated.value;
  return { policy: deepFreeze(policy), problems };
}

/** Each validation names a known validator, and its `with` block is what that validator accepts. */
function checkValidatorArgs(src: YamlSource, options: PolicyOptions): Problem[] {
  const validators = options.validators;
  if (!validators) return [];
  const problems: Problem[] = [];
  list(valueAt(src.data, ['gates']).value).forEach((gate, g) => {
    list(field(gate, 'validations')).forEach((v, r) => {
      const uses = field(v, 'uses');
      if (typeof uses !== 'string' || uses === '') return;
      const at: YamlPath = ['gates', g, 'validations', r];
      const schema = validators.get(uses);
      if (!schema) {
        problems.push(src.problemAt([...at, 'uses'], `unknown validator "${uses}" (validators: ${[...validators.keys()].sort().join(', ')})`));
        return;
      }
      const args = field(v, 'with') ?? {};
      const parsed = schema.safeParse(args);
      if (parsed.success) return;
      for (const issue of parsed.error.issues) {
        const path = issue.path.filter((k): k is string | number => typeof k !== 'symbol');
        const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
        const where = [...at, 'with', ...path];
        if (keys.length > 0) {
          for (const k of keys) problems.push(src.problemAt([...where, k], `${uses}: unknown field "${k}" in "with"`, { key: true }));
        } else {
          const name = path.length > 0 ? `"with.${path.join('.')}"` : '"with"';
          problems.push(src.problemAt(where, `${uses}: ${name} ${issue.message}`));
        }
      }
    });
  });
  return problems;
}

/** The checks that need more than one node: references, uniqueness, cycles. */
function crossCheck(src: YamlSource): Problem[] {
  const data = src.data;
  const problems: Problem[] = [];
  const report = (path: YamlPath, message: string): void => {
    problems.push(src.problemAt(path, message));
  };
  const lineOf = (path: YamlPath): number => src.positionOf(path).line;

  // Roster: who holds which role; one key per person, or a signature proves nothing about who signed.
  const rosterData = valueAt(data, ['roster']).value;
  const roster = isPlainObject(rosterData) ? rosterData : {};
  const holders = new Map<string, string[]>();
  const keyOwner = new Map<string, string>();
  for (const [user, entry] of Object.entries(roster)) {
    for (const role of list(field(entry, 'roles'))) {
      if (typeof role === 'string') holders.set(role, [...(holders.get(role) ?? []), user]);
    }
    const key = field(entry, 'key');
    if (typeof key === 'string' && key !== '') {
      const first = keyOwner.get(key);
      if (first !== undefined) report(['roster', user, 'key'], `roster entry "${user}": the same key as "${first}"; every person needs their own key`);
      else keyOwner.set(key, user);
    }
  }
  const roleList = [...holders.keys()].sort();
  const knownRoles = roleList.length > 0 ? `roles in the roster: ${roleList.join(', ')}` : 'the roster names no roles';

  // Stages: unique names, `after` names a known stage, and the order has no cycle.
  const stages = list(valueAt(data, ['stages']).value);
  const stageIndex = new Map<string, number>();
  stages.forEach((stage, i) => {
    const n = ident(field(stage, 'name'));
    if (n === undefined) return;
    const first = stageIndex.get(n);
    if (first !== undefined) report(['stages', i, 'name'], `stage "${n}" is defined twice (first at line ${lineOf(['stages', first, 'name'])})`);
    else stageIndex.set(n, i);
  });
  const stageNames = [...stageIndex.keys()];
  const knownStages = `stages: ${stageNames.join(', ') || 'none'}`;
  const afterOf = new Map<string, string>();
  stages.forEach((stage, i) => {
    const n = ident(field(stage, 'name'));
    const after = ident(field(stage, 'after'));
    if (after === undefined) return;
    if (!stageIndex.has(after)) report(['stages', i, 'after'], `stage "${n ?? i + 1}": "after" names unknown stage "${after}" (${knownStages})`);
    else if (n !== undefined && stageIndex.get(n) === i) afterOf.set(n, after);
  });
  // Who may act on a stage: roles someone holds, or nobody could ever promote, roll back or clear.
  stages.forEach((stage, i) => {
    const n = ident(field(stage, 'name'));
    // A soak is time spent in the stage before: without `after` there is no stage before.
    if (field(stage, 'soak') !== undefined && field(stage, 'after') === undefined) {
      report(['stages', i, 'soak'], `stage "${n ?? i + 1}": "soak" needs "after": it is how long the release must have held the stage before this one`);
    }
    for (const key of STAGE_ROLE_FIELDS) {
      list(field(stage, key)).forEach((role, k) => {
        const known = ident(role);
        if (known !== undefined && !holders.has(known)) {
          report(['stages', i, key, k], `stage "${n ?? i + 1}": unknown role "${known}" in "${key}" (${knownRoles})`);
        }
      });
    }
    // Break-glass: a role someone holds (or nobody could ever sign it), follow-up items like a gate's.
    const glass = field(stage, 'breakGlass');
    const glassRole = ident(field(glass, 'role'));
    if (glassRole !== undefined && !holders.has(glassRole)) {
      report(['stages', i, 'breakGlass', 'role'], `stage "${n ?? i + 1}": unknown role "${glassRole}" in "breakGlass" (${knownRoles})`);
    }
    const seenItems = new Map<string, number>();
    list(field(glass, 'followUp')).forEach((item, r) => {
      const itemId = ident(field(item, 'id'));
      if (itemId !== undefined) {
        const first = seenItems.get(itemId);
        if (first !== undefined) {
          report(['stages', i, 'breakGlass', 'followUp', r, 'id'], `stage "${n ?? i + 1}": duplicate follow-up item id "${itemId}" (first defined at line ${lineOf(['stages', i, 'breakGlass', 'followUp', first, 'id'])})`);
        } else seenItems.set(itemId, r);
      }
      if (field(item, 'when') !== undefined) {
        report(['stages', i, 'breakGlass', 'followUp', r, 'when'], `stage "${n ?? i + 1}": a follow-up item has no "when": it follows every break-glass promotion`);
      }
      list(field(item, 'roles')).forEach((role, k) => {
        const known = ident(role);
        if (known !== undefined && !holders.has(known)) {
          report(['stages', i, 'breakGlass', 'followUp', r, 'roles', k], `stage "${n ?? i + 1}": unknown role "${known}" in follow-up item${itemId ? ` "${itemId}"` : ''} (${knownRoles})`);
        }
      });
    });
  });
  for (const cycle of cyclesOf(afterOf, stageNames)) {
    const start = cycle[0] as string;
    report(['stages', stageIndex.get(start) as number, 'after'], `stage "${start}": "after" forms a cycle: ${[...cycle, start].join(' → ')}`);
  }

  // Gates: unique ids, a known stage, unique requirement ids, roles someone holds.
  const gateIds = new Set(list(valueAt(data, ['gates']).value).map((gate) => ident(field(gate, 'id'))).filter((v): v is string => v !== undefined));
  const gateIndex = new Map<string, number>();
  list(valueAt(data, ['gates']).value).forEach((gate, g) => {
    const id = ident(field(gate, 'id'));
    const label = id !== undefined ? `gate "${id}"` : `gate ${g + 1}`;
    if (id !== undefined) {
      const first = gateIndex.get(id);
      if (first !== undefined) report(['gates', g, 'id'], `duplicate gate id "${id}" (first defined at line ${lineOf(['gates', first, 'id'])})`);
      else gateIndex.set(id, g);
    }
    const stage = ident(field(gate, 'stage'));
    if (stage !== undefined && !stageIndex.has(stage)) report(['gates', g, 'stage'], `${label}: unknown stage "${stage}" (${knownStages})`);

    for (const kind of ['checklist', 'validations'] as const) {
      const seen = new Map<string, number>();
      list(field(gate, kind)).forEach((req, r) => {
        const rid = ident(field(req, 'id'));
        if (rid === undefined) return;
        const first = seen.get(rid);
        const what = kind === 'checklist' ? 'checklist item' : 'validation';
        if (first !== undefined) {
          report(['gates', g, kind, r, 'id'], `${label}: duplicate ${what} id "${rid}" (first defined at line ${lineOf(['gates', g, kind, first, 'id'])})`);
        } else seen.set(rid, r);
      });
    }

    list(field(gate, 'waivers')).forEach((role, k) => {
      const known = ident(role);
      if (known !== undefined && !holders.has(known)) report(['gates', g, 'waivers', k], `${label}: unknown role "${known}" in "waivers" (${knownRoles})`);
    });

    list(field(gate, 'checklist')).forEach((item, r) => {
      const itemId = ident(field(item, 'id'));
      list(field(item, 'roles')).forEach((role, k) => {
        const known = ident(role);
        if (known !== undefined && !holders.has(known)) {
          report(['gates', g, 'checklist', r, 'roles', k], `${label}: unknown role "${known}" in checklist item${itemId ? ` "${itemId}"` : ''} (${knownRoles})`);
        }
      });
    });

    const rules = signoffRulesOf(gate);
    rules.list.forEach((rule, r) => {
      const at: YamlPath = ['gates', g, ...rules.at, r];
      const role = ident(field(rule, 'role'));
      // Preconditions name gates and a stage that exist; a rule that waits for its own gate could
      // never be given, since that gate waits for the sign-off.
      list(field(rule, 'after')).forEach((after, k) => {
        const name = ident(after);
        if (name === undefined) return;
        if (name === id) report([...at, 'after', k], `${label}: the sign-off rule${role ? ` for role "${role}"` : ''} cannot wait for its own gate: it would never be given`);
        else if (!gateIds.has(name)) report([...at, 'after', k], `${label}: "after" names unknown gate "${name}" (gates: ${[...gateIds].join(', ') || 'none'})`);
      });
      const inStage = ident(field(rule, 'inStage'));
      if (inStage !== undefined && !stageIndex.has(inStage)) report([...at, 'inStage'], `${label}: "inStage" names unknown stage "${inStage}" (${knownStages})`);
      if (role === undefined) return;
      const who = holders.get(role);
      if (who === undefined) {
        report([...at, 'role'], `${label}: unknown role "${role}" in sign-off rule (${knownRoles})`);
        return;
      }
      // A rule that more people must meet than hold the role could never be satisfied.
      const count = field(rule, 'count');
      if (typeof count === 'number' && Number.isInteger(count) && count > who.length) {
        report(
          [...at, 'count'],
          `${label}: the sign-off rule for role "${role}" needs ${count} sign-offs but only ${who.length} roster ${who.length === 1 ? 'member holds' : 'members hold'} it (${who.sort().join(', ')})`,
        );
      }
    });

    const requirements = [field(gate, 'checklist'), isPlainObject(rules.raw) ? rules.raw.rules : rules.raw, field(gate, 'validations')];
    const wellTyped = requirements.every((v) => v === undefined || Array.isArray(v));
    if (isPlainObject(gate) && wellTyped && requirements.every((v) => list(v).length === 0)) {
      report(['gates', g], `${label} has no requirements: give it a checklist, signoffs or validations`);
    }
  });

  return problems;
}

/** Each cycle of the `after` relation once, starting at its first stage in file order. */
function cyclesOf(afterOf: ReadonlyMap<string, string>, order: readonly string[]): string[][] {
  const cycles: string[][] = [];
  const done = new Set<string>();
  for (const startName of order) {
    const path: string[] = [];
    const onPath = new Map<string, number>();
    let cur: string | undefined = startName;
    while (cur !== undefined && !done.has(cur) && !onPath.has(cur)) {
      onPath.set(cur, path.length);
      path.push(cur);
      cur = afterOf.get(cur);
    }
    if (cur !== undefined && onPath.has(cur)) {
      const cycle = path.slice(onPath.get(cur));
      // Start where the file does, so the report does not depend on which stage the walk began at.
      const first = minOf(cycle.map((s) => order.indexOf(s)));
      const at = cycle.indexOf(order[first] as string);
      cycles.push([...cycle.slice(at), ...cycle.slice(0, at)]);
    }
    for (const s of path) done.add(s);
  }
  return cycles;
}

/** How a path reads in a message: `gate "approvals", sign-off rule for role "security", count`. */
function describePolicyPath(path: YamlPath, data: unknown): string {
  const parts: string[] = [];
  let rest = path;
  if (path[0] === 'roster' && path.length >= 2) {
    parts.push(`roster entry "${String(path[1])}"`);
    rest = path.slice(2);
  } else if (path[0] === 'stages' && typeof path[1] === 'number') {
    const n = ident(valueAt(data, ['stages', path[1], 'name']).value);
    parts.push(n !== undefined ? `stage "${n}"` : `stage ${path[1] + 1}`);
    rest = path.slice(2);
  } else if (path[0] === 'gates' && typeof path[1] === 'number') {
    const gatePath = ['gates', path[1]];
    const id = ident(valueAt(data, [...gatePath, 'id']).value);
    parts.push(id !== undefined ? `gate "${id}"` : `gate ${path[1] + 1}`);
    rest = path.slice(2);
    // The map form of `signoffs` puts its rules one level down, under `rules`.
    const nested = path[2] === 'signoffs' && path[3] === 'rules';
    const kind = path[2];
    const r = nested ? path[4] : path[3];
    if ((kind === 'checklist' || kind === 'signoffs' || kind === 'validations') && typeof r === 'number') {
      const req = valueAt(data, [...gatePath, kind, ...(nested ? ['rules'] : []), r]).value;
      if (kind === 'signoffs') {
        const role = ident(field(req, 'role'));
        parts.push(role !== undefined ? `sign-off rule for role "${role}"` : `sign-off rule ${r + 1}`);
      } else {
        const rid = ident(field(req, 'id'));
        const what = kind === 'checklist' ? 'checklist item' : 'validation';
        parts.push(rid !== undefined ? `${what} "${rid}"` : `${what} ${r + 1}`);
      }
      rest = path.slice(nested ? 5 : 4);
    }
  }
  if (rest.length > 0) parts.push(formatPath(rest));
  return parts.join(', ');
}

/** Why `text` is not a roster key (`ed25519:` + base64 of an Ed25519 SubjectPublicKeyInfo DER), or undefined. */
function checkPublicKey(text: string): string | undefined {
  const form = `write it as "${PUBLIC_KEY_PREFIX}" followed by the base64 of its SubjectPublicKeyInfo DER, as \`tollgate keys show\` prints it`;
  if (!text.startsWith(PUBLIC_KEY_PREFIX)) return `the key is not an Ed25519 public key: ${form}`;
  const b64 = text.slice(PUBLIC_KEY_PREFIX.length);
  const der = Buffer.from(b64, 'base64');
  // Node's base64 decoder skips characters it does not know; insist on the exact text so that two
  // spellings of one key cannot both be valid.
  if (b64 === '' || der.toString('base64') !== b64) return `the key is not valid base64: ${form}`;
  try {
    const key = createPublicKey({ key: der, format: 'der', type: 'spki' });
    if (key.asymmetricKeyType !== 'ed25519') return `the key is a ${key.asymmetricKeyType ?? 'non-Ed25519'} key; Tollgate needs an Ed25519 key`;
  } catch {
    return `the key is not an Ed25519 public key: ${form}`;
  }
  return undefined;
}

/** A gate's sign-off rules as written, in either form, and where they sit under the gate. */
function signoffRulesOf(gate: unknown): { list: unknown[]; at: YamlPath; raw: unknown } {
  const raw = field(gate, 'signoffs');
  if (isPlainObject(raw)) return { list: list(raw.rules), at: ['signoffs', 'rules'], raw };
  return { list: list(raw), at: ['signoffs'], raw };
}

function field(obj: unknown, key: string): unknown {
  return isPlainObject(obj) ? obj[key] : undefined;
}

function list(v: unknown): unknown[] {
  return Array.isArray(v) ? v : [];
}

/** The value if it is a well-formed name; malformed names are already reported by the schema. */
function ident(v: unknown): string | undefined {
  return typeof v === 'string' && NAME_PATTERN.test(v) ? v : undefined;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}
