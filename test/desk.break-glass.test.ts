/**
 * The review desk's release page after a break-glass promotion (issue 12), against a real
 * `tollgate serve`: the history marks the promotion as break-glass with its reason, signer and what
 * it went past; the follow-ups it left are listed open, at the top and in the stage, with a form for
 * whoever may complete them; completing one in the browser's form closes it on the page.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { opsProject, removeProjects, V, type Project } from './helpers/cli.js';
import { startServe, type Served } from './helpers/serve.js';

const POLICY = `stages:
  - name: staging
  - name: production
    after: staging
    breakGlass:
      role: incident-commander
      followUp:
        - { id: postmortem, text: "Write the post-incident review", roles: [incident-commander] }
        - { id: notify-regulator, text: "Tell the regulator within 72 hours" }
gates:
  - id: approvals
    stage: production
    signoffs:
      - { role: security, count: 1 }
`;

let p: Project;
let server: Served;

beforeAll(async () => {
  p = opsProject(POLICY, 1, { erin: 'incident-commander' });
  const run = (args: string[]) => {
    const r = p.run(args);
    if (r.code !== 0) throw new Error(`${args.join(' ')} failed (${r.code}): ${r.stdout}${r.stderr}`);
    return r;
  };
  run(['promote', V(1), '--to', 'staging', '--as', 'dave']);
  run(['signoff', V(1), '--to', 'production', '--role', 'incident-commander', '--break-glass', '--reason', 'card fraud spike', '--as', 'erin']);
  run(['promote', V(1), '--to', 'production', '--break-glass', '--reason', 'ship the fix <now>', '--as', 'dave']);
  server = await startServe(p.dir, { TOLLGATE_HOME: p.home }, ['--no-webhooks']);
}, 120_000);

afterAll(async () => {
  await server?.stop();
  removeProjects();
});

/** A signed-in browser session of `user` (token → /login), as cookies and the form's CSRF token. */
async function session(user: string): Promise<{ cookie: string; get(path: string): Promise<string>; csrf(html: string): string }> {
  const token = p.run(['token', 'create', user, '--expires', '1d', '--json']).json().token as string;
  const jar = new Map<string, string>();
  const keep = (res: Response) => {
    for (const c of res.headers.getSetCookie()) {
      const [pair] = c.split(';');
      const i = pair!.indexOf('=');
      jar.set(pair!.slice(0, i), pair!.slice(i + 1));
    }
  };
  const cookie = () => [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
  const csrf = (html: string) => /name="_csrf" value="([^"]+)"/.exec(html)![1]!;
  const login = await fetch(`${server.url}/login`);
  keep(login);
  const signedIn = await fetch(`${server.url}/login`, {
    method: 'POST',
    redirect: 'manual',
    headers: { cookie: cookie(), 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ _csrf: csrf(await login.text()), token, next: '/' }).toString(),
  });
  expect(signedIn.status).toBe(303);
  keep(signedIn);
  return {
    get cookie() {
      return cookie();
    },
    async get(path: string) {
      const res = await fetch(`${server.url}${path}`, { headers: { cookie: cookie() } });
      expect(res.status, path).toBe(200);
      return res.text();
    },
    csrf,
  };
}

const PAGE = `/releases/${V(1)}?stage=production`;

describe('the review desk after a break-glass promotion', () => {
  it('marks the promotion as break-glass in the history, with its reason, signer and what it went past', async () => {
    const erin = await session('erin');
    const page = await erin.get(PAGE);
    const history = page.slice(page.indexOf('id="history"'));
    expect(history).toContain('<span class="badge o-break-glass">break-glass</span>');
    // The reason is the person's text, escaped; the signer and the unmet requirements follow.
    expect(history).toContain('ship the fix &lt;now&gt;');
    expect(history).toContain('on the break-glass sign-off of erin (incident-commander)');
    expect(history).toContain('went past: approvals/signoff:security missing');
    // The ordinary promotion into staging is not marked.
    expect(history.match(/o-break-glass/g)).toHaveLength(1);
    expect(history).toContain('<span class="badge o-promotion">promotion</span>');
    // The stage it holds is headed as held, not as a failure to get there.
    expect(page).toContain(`<h3 id="stage-production-h">${V(1)} holds production</h3>`);
    expect(page).not.toContain(`${V(1)} cannot be promoted to production`);
  });

  it('lists the open follow-ups at the top and in the stage, with a form for someone who may complete them', async () => {
    const erin = await session('erin');
    const page = await erin.get(PAGE);
    expect(page).toContain('Break-glass follow-ups open (2)');
    expect(page).toContain('Break-glass follow-ups: 2 of 2 open');
    expect(page).toContain('Write the post-incident review');
    expect(page).toContain('Complete follow-up postmortem');
    expect(page).toContain('Complete follow-up notify-regulator');
    // The staging tab shows the banner too: the follow-ups need doing whichever tab is open.
    expect(await erin.get(`/releases/${V(1)}?stage=staging`)).toContain('Break-glass follow-ups open (2)');
  });

  it('tells someone without the role who can complete a restricted follow-up, and offers no form', async () => {
    const bob = await session('bob');
    const page = await bob.get(PAGE);
    expect(page).toContain('Who can complete it: a holder of incident-commander.');
    expect(page).not.toContain('Complete follow-up postmortem');
    expect(page).toContain('Complete follow-up notify-regulator');
    // bob's queue holds the follow-up he may complete, and not the one for incident commanders.
    const queue = await bob.get('/queue');
    expect(queue).toContain(`${V(1)} → production: break-glass follow-up notify-regulator`);
    expect(queue).not.toContain('break-glass follow-up postmortem');
  });

  it("puts the open follow-ups in the queue of whoever may complete them, linked to the item", async () => {
    const queue = await (await session('erin')).get('/queue');
    expect(queue).toContain(`href="/releases/${V(1)}?stage=production#follow-up-production-postmortem">${V(1)} → production: break-glass follow-up postmortem</a>`);
    expect(queue).toContain('Write the post-incident review');
    expect(queue).toContain('break-glass follow-up notify-regulator');
  });

  it('completing a follow-up in the form closes it on the page and in release show', async () => {
    const erin = await session('erin');
    const before = await erin.get(PAGE);
    const form = new FormData();
    form.set('_csrf', erin.csrf(before));
    form.set('stage', 'production');
    form.set('item', 'postmortem');
    form.set('note', 'review held with the fraud team');
    form.set('evidence', new Blob(['# Post-incident review\n'], { type: 'text/markdown' }), 'postmortem.md');
    const res = await fetch(`${server.url}/releases/${V(1)}/checklist`, { method: 'POST', redirect: 'manual', headers: { cookie: erin.cookie }, body: form });
    expect(res.status).toBe(303);
    const after = await erin.get(PAGE);
    expect(after).toContain('Break-glass follow-ups open (1)');
    expect(after).toContain('Break-glass follow-ups: 1 of 2 open');
    expect(after).toMatch(/follow-up postmortem — Write the post-incident review<\/strong><\/p><p class="why">Completed by erin /);
    expect(after).not.toContain('Complete follow-up postmortem');
    const queue = await erin.get('/queue');
    expect(queue).not.toContain('break-glass follow-up postmortem');
    expect(queue).toContain('break-glass follow-up notify-regulator');
    const shown = p.run(['release', 'show', V(1), '--json']).json();
    expect(shown.followUps.find((f: { item: string }) => f.item === 'postmortem').done).toMatchObject({ by: 'erin' });
  });
});
