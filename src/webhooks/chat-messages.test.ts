import { describe, expect, it } from 'vitest';
import { slackProblems, teamsProblems } from '../../test/helpers/chat-shapes.js';
import type { AuditEvent } from '../audit/events.js';
import { deliveryPayload, WEBHOOK_EVENTS, type WebhookEventType } from './events.js';
import { renderDelivery } from './formats.js';
import { noticeOf, truncate } from './notice.js';
import { escapeMrkdwn } from './slack-message.js';

const REL = 'fraud-detector@2.4.0';
const PUBLIC = 'https://tollgate.example.com';

/** The audit data each webhook event is raised from, as the service writes it. */
const EVENTS: Record<WebhookEventType, { audit: string; data: Record<string, unknown>; says: RegExp; details?: RegExp }> = {
  'release.promoted': {
    audit: 'ReleasePromoted',
    data: { id: 'prm_1', release: REL, stage: 'production', previous: '2.3.0', policy: { version: 3, digest: 'sha256:aa' }, gates: [], artifacts: [] },
    says: /^fraud-detector@2\.4\.0 promoted to production$/,
  },
  'promotion.blocked': {
    audit: 'PromotionBlocked',
    data: { release: REL, stage: 'production', unmet: ['approvals/signoff:security missing', 'automated/drift failed'], signoffsNeeded: [] },
    says: /^Promotion of fraud-detector@2\.4\.0 to production blocked$/,
    details: /approvals\/signoff:security missing[\s\S]*automated\/drift failed/,
  },
  'signoff.requested': {
    audit: 'PromotionBlocked',
    data: { release: REL, stage: 'production', unmet: ['approvals/signoff:security missing'], signoffsNeeded: [{ gate: 'approvals', role: 'security', outcome: 'missing' }] },
    says: /^Sign-off wanted: fraud-detector@2\.4\.0 to production$/,
    details: /security \(gate approvals, missing\)/,
  },
  'signoff.recorded': {
    audit: 'SignoffRecorded',
    data: { id: 'sgn_1', release: REL, stage: 'production', gate: 'approvals', role: 'security', decision: 'reject', signature: 'sig' },
    says: /^dave rejected fraud-detector@2\.4\.0 for production as security$/,
  },
  'release.rolled_back': {
    audit: 'ReleaseRolledBack',
    data: { id: 'prm_2', subject: 'fraud-detector', stage: 'production', from: REL, to: 'fraud-detector@2.3.0', reason: 'latency regression' },
    says: /^fraud-detector rolled back in production: fraud-detector@2\.4\.0 → fraud-detector@2\.3\.0$/,
    details: /latency regression/,
  },
  'handoff.failed': {
    audit: 'HandoffRecorded',
    data: { release: REL, stage: 'production', promotion: 'prm_1', handoffs: [{ index: 0, kind: 'git', target: 'deploy-repo', outcome: 'failed', attempts: 3, error: 'push refused' }] },
    says: /^Hand-off of fraud-detector@2\.4\.0 to production failed$/,
    details: /git deploy-repo: failed after 3 attempt\(s\): push refused/,
  },
};

function payload(type: WebhookEventType, data: Record<string, unknown>, auditType: string): string {
  const audit: AuditEvent = { seq: 42, at: '2026-11-30T09:00:00.000Z', actor: 'user:dave', type: auditType, data, prev: 'p', hash: 'h42' };
  return deliveryPayload('dlv_1', { type, audit });
}

describe('chat messages for each webhook event', () => {
  it('covers every event type', () => {
    expect(Object.keys(EVENTS).sort()).toEqual([...WEBHOOK_EVENTS].sort());
  });

  it.each(Object.entries(EVENTS))('%s: says what happened, to which release and stage, and who, in Slack and Teams shape', (type, e) => {
    const body = payload(type as WebhookEventType, e.data, e.audit);
    const notice = noticeOf(body, PUBLIC);
    expect(notice.headline).toMatch(e.says);
    expect(notice.facts.map((f) => f.value)).toContain('production');
    expect(notice.facts.map((f) => f.value)).toContain('dave');
    if (e.details) expect(notice.details.flatMap((d) => d.lines).join('\n')).toMatch(e.details);

    const slack = JSON.parse(renderDelivery('slack', body, PUBLIC));
    expect(slackProblems(slack)).toEqual([]);
    expect(slack.blocks[0]).toEqual({ type: 'header', text: { type: 'plain_text', text: notice.headline, emoji: false } });
    expect(slack.text).toBe(escapeMrkdwn(notice.headline));
    const button = slack.blocks.find((b: any) => b.type === 'actions').elements[0];
    const ref = type === 'release.rolled_back' ? 'fraud-detector@2.3.0' : REL;
    expect(button.url).toBe(`${PUBLIC}/releases/${ref}?stage=production`);
    expect(slack.blocks.at(-1)).toMatchObject({ type: 'context', elements: [{ type: 'mrkdwn', text: `Tollgate ${type} · audit #42 · dlv_1` }] });

    const teams = JSON.parse(renderDelivery('teams', body, PUBLIC));
    expect(teamsProblems(teams)).toEqual([]);
    const card = teams.attachments[0].content;
    expect(card.actions).toEqual([{ type: 'Action.OpenUrl', title: 'Open the release', url: button.url }]);
    expect(card.body.find((b: any) => b.type === 'FactSet').facts).toContainEqual({ title: 'Stage', value: 'production' });
  });

  it('leaves the link out without a public URL', () => {
    const e = EVENTS['release.promoted'];
    const body = payload('release.promoted', e.data, e.audit);
    const slack = JSON.parse(renderDelivery('slack', body));
    expect(slackProblems(slack)).toEqual([]);
    expect(slack.blocks.map((b: any) => b.type)).toEqual(['header', 'section', 'context']);
    expect(JSON.parse(renderDelivery('teams', body)).attachments[0].content.actions).toEqual([]);
  });

  it('sends the JSON payload unchanged as json', () => {
    const e = EVENTS['signoff.recorded'];
    const body = payload('signoff.recorded', e.data, e.audit);
    expect(renderDelivery('json', body, PUBLIC)).toBe(body);
  });

  it('marks a break-glass promotion and says why', () => {
    const e = EVENTS['release.promoted'];
    const body = payload('release.promoted', { ...e.data, breakGlass: { reason: 'outage fix', unmet: ['approvals/signoff:security missing'] } }, e.audit);
    const n = noticeOf(body);
    expect(n.headline).toMatch(/\(break-glass\)$/);
    expect(n.details).toEqual([
      { heading: 'Break-glass reason', lines: ['outage fix'] },
      { heading: 'Promoted past', lines: ['approvals/signoff:security missing'] },
    ]);
  });
});

describe('text a person wrote', () => {
  const hostile = 'see <https://evil.example|the fix> & tell <!channel> <@U123> [click](https://evil.example) *now*';
  const rolledBack = (reason: string) => payload('release.rolled_back', { ...EVENTS['release.rolled_back'].data, reason }, 'ReleaseRolledBack');

  it('cannot make a link or a mention in Slack', () => {
    const slack = JSON.parse(renderDelivery('slack', rolledBack(hostile), PUBLIC));
    const reason = slack.blocks.find((b: any) => b.type === 'section' && b.text?.text.startsWith('*Reason*')).text.text;
    expect(reason).toBe('*Reason*\n• see &lt;https://evil.example|the fix&gt; &amp; tell &lt;!channel&gt; &lt;@U123&gt; [click](https://evil.example) *now*');
    // No control sequence survives anywhere in the message: every < and > in it is escaped.
    expect(JSON.stringify(slack.blocks.filter((b: any) => b.type !== 'header' && b.type !== 'actions'))).not.toMatch(/[<>]/);
  });

  it('cannot make a link or restyle the card in Teams', () => {
    const card = JSON.parse(renderDelivery('teams', rolledBack(hostile), PUBLIC)).attachments[0].content;
    const reason = card.body.find((b: any) => b.type === 'TextBlock' && b.text.includes('evil')).text;
    expect(reason).toBe('- see \\<https://evil.example|the fix\\> & tell \\<!channel\\> \\<@U123\\> \\[click\\](https://evil.example) \\*now\\*');
  });

  it('is cut to the limits with "…", however long, never inside an escape or a character', () => {
    const long = `${'<&>'.repeat(2000)}${'😀'.repeat(2000)}`;
    const body = rolledBack(long);
    const slack = JSON.parse(renderDelivery('slack', body, PUBLIC));
    expect(slackProblems(slack)).toEqual([]);
    const reason = slack.blocks.find((b: any) => b.type === 'section' && b.text?.text.startsWith('*Reason*')).text.text as string;
    expect(reason.length).toBeLessThanOrEqual(3000);
    expect(reason.endsWith('…')).toBe(true);
    expect(reason.slice(0, -1)).toMatch(/(&lt;|&amp;|&gt;)$/);
    const teams = JSON.parse(renderDelivery('teams', body, PUBLIC));
    expect(teamsProblems(teams)).toEqual([]);

    // A long subject makes a long headline: the header is cut, the fallback text keeps it whole enough.
    const longName = payload('release.promoted', { ...EVENTS['release.promoted'].data, release: `${'x'.repeat(300)}@1.0.0` }, 'ReleasePromoted');
    const header = JSON.parse(renderDelivery('slack', longName, PUBLIC)).blocks[0].text.text as string;
    expect(header).toHaveLength(150);
    expect(header.endsWith('…')).toBe(true);
  });

  it('truncate keeps surrogate pairs whole', () => {
    expect(truncate('a😀b', 3)).toBe('a…');
    expect(truncate('ab😀', 4)).toBe('ab😀');
    expect(truncate('abc', 3)).toBe('abc');
    expect(truncate('abcd', 3)).toBe('ab…');
  });
});
