/**
 * `tollgate webhook …` through the real binary: on the local home and over the API as an admin, the
 * deliveries that `serve` sends to a real receiver, signed, and the errors a person can make. Also
 * `--database postgres://…` that names no reachable database.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyDelivery } from '../src/webhooks/signature.js';
import { slackProblems } from './helpers/chat-shapes.js';
import { createProject, removeProjects, rosterYaml, type Project } from './helpers/cli.js';
import { startReceiver, startServe, waitFor, type Served } from './helpers/serve.js';

/** The receiver listens on 127.0.0.1: private webhook addresses allowed (the guard has its own tests). */
const PRIVATE = { TOLLGATE_ALLOW_PRIVATE_WEBHOOKS: '1' };
const REL = 'fraud-detector@2.4.0';
let p: Project;
let receiver: Awaited<ReturnType<typeof startReceiver>>;
/** Where a Slack-format webhook points. */
let chat: Awaited<ReturnType<typeof startReceiver>>;
let server: Served | undefined;

beforeAll(async () => {
  p = createProject();
  const ops = p.run(['keys', 'create', 'ops', '--json']).json().publicKey as string;
  p.write(
    'hooks.yaml',
    `apiVersion: tollgate/v1
kind: Policy
name: hooks
${rosterYaml(p)}
  ops:   { roles: [admin], key: "${ops}" }
stages:
  - name: staging
  - name: production
    after: staging
gates:
  - id: approvals
    stage: production
    signoffs:
      - { role: security, count: 1 }
`,
  );
  expect(p.run(['policy', 'apply', 'hooks.yaml', '--as', 'dave']).code).toBe(0);
  expect(p.run(['release', 'create', 'release.yaml', '--as', 'alice']).code).toBe(0);
  receiver = await startReceiver();
  chat = await startReceiver();
});

afterAll(async () => {
  await server?.stop('SIGKILL');
  await receiver.close();
  await chat.close();
  removeProjects();
});

describe('tollgate webhook', () => {
  it('adds a webhook on the local home, prints its secret once, and serve delivers signed events', async () => {
    const added = p.run(['webhook', 'add', receiver.url, '--events', 'release.promoted,promotion.blocked', '--json'], { env: PRIVATE });
    expect(added.code, added.stderr).toBe(0);
    const hook = added.json();
    expect(hook).toMatchObject({ id: expect.stringMatching(/^whk_/), url: receiver.url, events: ['release.promoted', 'promotion.blocked'], removedAt: null });
    expect(hook.secret).toMatch(/^whsec_/);
    const list = p.run(['webhook', 'list', '--json']).json();
    expect(list.webhooks.map((w: { id: string }) => w.id)).toEqual([hook.id]);
    expect(JSON.stringify(list)).not.toContain(hook.secret);
    const human = p.run(['webhook', 'list']);
    expect(human.stdout).toContain(`${hook.id}  ${receiver.url}  release.promoted,promotion.blocked`);

    const slack = p.run(['webhook', 'add', chat.url, '--events', 'release.promoted', '--format', 'slack', '--json'], { env: PRIVATE });
    expect(slack.code, slack.stderr).toBe(0);
    expect(slack.json()).toMatchObject({ format: 'slack', events: ['release.promoted'] });
    expect(p.run(['webhook', 'list']).stdout).toContain(`${slack.json().id}  ${chat.url}  release.promoted  as slack`);

    // Changes made by the CLI while no server runs wait in the outbox…
    expect(p.run(['promote', REL, '--to', 'staging', '--as', 'dave']).code).toBe(0);
    expect(p.run(['promote', REL, '--to', 'production', '--as', 'dave']).code).toBe(3);
    const pending = p.run(['webhook', 'deliveries', hook.id, '--status', 'pending', '--json']).json().deliveries;
    expect(pending.map((d: { event: string }) => d.event)).toEqual(['promotion.blocked', 'release.promoted']);
    // …and go out once one does.
    server = await startServe(p.dir, { TOLLGATE_HOME: p.home, TOLLGATE_WEBHOOK_POLL_MS: '50', ...PRIVATE }, ['--public-url', 'https://tollgate.example.com']);
    expect(await waitFor(() => receiver.got.length >= 2, 20_000)).toBe(true);
    for (const g of receiver.got) {
      expect(verifyDelivery({ secret: hook.secret, body: g.body, timestamp: g.headers['tollgate-timestamp'] as string, signature: g.headers['tollgate-signature'] as string })).toBe(true);
    }
    expect(receiver.got.map((g) => g.json.type)).toEqual(['release.promoted', 'promotion.blocked']);
    expect(receiver.got[1]!.json.data).toMatchObject({ stage: 'production', signoffsNeeded: [{ gate: 'approvals', role: 'security', outcome: 'missing' }] });
    expect(await waitFor(() => p.run(['webhook', 'deliveries', hook.id, '--status', 'delivered', '--json']).json().deliveries.length === 2, 10_000)).toBe(true);
    const text = p.run(['webhook', 'deliveries', hook.id]).stdout;
    expect(text).toMatch(/release\.promoted {2}delivered .* \(try 1\)/);

    // The Slack webhook got a Block Kit message, signed as sent, linking the release page at the public URL.
    expect(await waitFor(() => chat.got.length >= 1, 20_000)).toBe(true);
    const [message] = chat.got;
    expect(verifyDelivery({ secret: slack.json().secret, body: message!.body, timestamp: message!.headers['tollgate-timestamp'] as string, signature: message!.headers['tollgate-signature'] as string })).toBe(true);
    expect(slackProblems(message!.json)).toEqual([]);
    expect(message!.json.blocks[0].text.text).toBe(`${REL} promoted to staging`);
    expect(message!.json.blocks.find((b: { type: string }) => b.type === 'actions').elements[0].url).toBe(`https://tollgate.example.com/releases/${REL}?stage=staging`);
  }, 60_000);

  it('works over the API for an admin, and refuses anyone else with 403 and a code', async () => {
    expect(server).toBeDefined();
    const ops = p.run(['token', 'create', 'ops', '--json']).json().token as string;
    const bob = p.run(['token', 'create', 'bob', '--json']).json().token as string;
    const remote = (token: string, args: string[]) => p.run(args, { env: { TOLLGATE_SERVER: server!.url, TOLLGATE_TOKEN: token } });

    const added = remote(ops, ['webhook', 'add', 'https://chat.example.com/hooks/2', '--events', '*', '--secret', 'a-secret-of-sixteen+', '--json']);
    expect(added.code, added.stderr).toBe(0);
    expect(added.json()).toMatchObject({ events: ['*'], secret: 'a-secret-of-sixteen+', createdBy: 'ops' });
    expect(remote(ops, ['webhook', 'list', '--json']).json().webhooks).toHaveLength(3);
    // The API takes a format too, and refuses one it does not know with a code and a 400.
    const teams = remote(ops, ['webhook', 'add', 'https://chat.example.com/hooks/3', '--events', '*', '--format', 'teams', '--json']);
    expect(teams.code, teams.stderr).toBe(0);
    expect(teams.json()).toMatchObject({ format: 'teams' });
    expect(remote(ops, ['webhook', 'remove', teams.json().id]).code).toBe(0);
    const discord = remote(ops, ['webhook', 'add', 'https://chat.example.com/hooks/4', '--events', '*', '--format', 'discord', '--json']);
    expect(discord.code).toBe(2);
    expect(discord.json().error).toMatchObject({ code: 'TG_WEBHOOK_FORMAT_UNKNOWN', message: expect.stringContaining('json, slack, teams') });
    const answer = await fetch(`${server!.url}/api/webhooks`, { method: 'POST', headers: { authorization: `Bearer ${ops}`, 'content-type': 'application/json' }, body: JSON.stringify({ url: 'https://chat.example.com/hooks/5', events: ['*'], format: 'discord' }) });
    expect(answer.status).toBe(400);
    expect((await answer.json()).error.code).toBe('TG_WEBHOOK_FORMAT_UNKNOWN');
    const all = remote(ops, ['webhook', 'deliveries', '--json']).json().deliveries;
    expect(all.length).toBeGreaterThanOrEqual(2);
    expect(all[0].tries[0]).toMatchObject({ attempt: 1, statusCode: 204, error: null });
    const redelivered = remote(ops, ['webhook', 'redeliver', all[0].id, '--json']);
    expect(redelivered.code, redelivered.stderr).toBe(0);
    expect(redelivered.json()).toMatchObject({ id: all[0].id, status: 'pending' });
    const received = receiver.got.length;
    expect(await waitFor(() => receiver.got.length === received + 1, 20_000)).toBe(true);
    expect(receiver.got.at(-1)!.headers['tollgate-delivery']).toBe(all[0].id);

    const refused = remote(bob, ['webhook', 'list', '--json']);
    expect(refused.code).toBe(2);
    expect(refused.json().error.code).toBe('TG_NOT_ALLOWED');
    const removed = remote(ops, ['webhook', 'remove', added.json().id, '--json']);
    expect(removed.code).toBe(0);
    expect(removed.json().removedAt).toEqual(expect.any(String));
    // The refusal is in the audit log, under bob's name.
    const verify = p.run(['audit', 'verify', '--json']);
    expect(verify.json().ok).toBe(true);
    const db = p.openDb();
    try {
      const denied = db.prepare("select actor, data_json from audit_events where type = 'AccessDenied'").all() as { actor: string; data_json: string }[];
      expect(denied.map((d) => [d.actor, JSON.parse(d.data_json).route])).toEqual([['user:bob', '/api/webhooks']]);
    } finally {
      db.close();
    }
  }, 60_000);

  it('refuses bad input with a code, exit 2, and writes nothing', () => {
    const before = p.run(['webhook', 'list', '--json']).json().webhooks;
    const cases: [string[], string, RegExp][] = [
      [['webhook', 'add', 'ftp://example.com/x', '--events', '*'], 'TG_USAGE', /http or https/],
      [['webhook', 'add', 'https://example.com/x', '--events', 'release.deleted'], 'TG_USAGE', /unknown webhook event "release.deleted"/],
      [['webhook', 'add', 'https://example.com/x'], 'TG_USAGE', /--events/],
      [['webhook', 'add', 'https://example.com/x', '--events', '*', '--secret', 'short'], 'TG_USAGE', /at least 16/],
      [['webhook', 'add', 'https://example.com/x', '--events', '*', '--format', 'discord'], 'TG_WEBHOOK_FORMAT_UNKNOWN', /unknown webhook format "discord"; known: json, slack, teams/],
      [['webhook', 'remove', 'whk_nope'], 'TG_WEBHOOK_NOT_FOUND', /whk_nope/],
      [['webhook', 'deliveries', 'whk_nope'], 'TG_WEBHOOK_NOT_FOUND', /whk_nope/],
      [['webhook', 'deliveries', '--status', 'lost'], 'TG_USAGE', /--status lost/],
      [['webhook', 'deliveries', '--limit', '0'], 'TG_USAGE', /--limit 0/],
      [['webhook', 'redeliver', 'dlv_nope'], 'TG_WEBHOOK_NOT_FOUND', /dlv_nope/],
    ];
    for (const [args, code, message] of cases) {
      const r = p.run([...args, '--json']);
      expect(r.code, args.join(' ')).toBe(2);
      expect(r.json().error.code, args.join(' ')).toBe(code);
      expect(r.json().error.message, args.join(' ')).toMatch(message);
    }
    expect(p.run(['webhook', 'list', '--json']).json().webhooks).toEqual(before);
  });
});

describe('--database postgres://…', () => {
  it('names an unreachable database without its password, exits 1, and leaves no half-made home', () => {
    const q = createProject({ init: false });
    const r = q.run(['init', '--json', '--database', 'postgres://tollgate:hunter2@127.0.0.1:1/nowhere']);
    expect(r.code).toBe(1);
    expect(r.json().error.code).toBe('TG_DATABASE_UNAVAILABLE');
    expect(r.json().error.message).toContain('postgres://tollgate:***@127.0.0.1:1/nowhere');
    expect(r.stdout + r.stderr).not.toContain('hunter2');
    expect(fs.existsSync(q.home)).toBe(false);
    expect(fs.existsSync(path.join(q.dir, 'tollgate.yaml'))).toBe(false);
  });

  it('refuses a schema parameter that is not a plain name', () => {
    const r = p.run(['status', REL, '--to', 'staging', '--json', '--database', 'postgres://127.0.0.1:1/db?schema=a;drop']);
    expect(r.code).toBe(2);
    expect(r.json().error).toMatchObject({ code: 'TG_USAGE', message: expect.stringMatching(/schema=a;drop/) });
  });
});
