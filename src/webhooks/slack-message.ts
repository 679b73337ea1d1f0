/**
 * A notice (notice.ts) as a Slack message: Block Kit `blocks` with a `text` fallback (what
 * notifications and old clients show), as an incoming webhook or `chat.postMessage` takes it.
 * Everything that came from a person (release names, reasons, errors) is escaped for mrkdwn, so a
 * reason cannot make a link or a mention (`<https://evil|click>`, `<!channel>`); every text is cut to
 * Slack's limits (a message over them is refused whole), with "…".
 */
import { truncate, type Notice } from './notice.js';

/** Block Kit's limits (api.slack.com/reference/block-kit): a message past any of them is refused. */
export const SLACK_LIMITS = {
  blocks: 50,
  headerText: 150,
  sectionText: 3000,
  sectionFields: 10,
  fieldText: 2000,
  contextElements: 10,
  buttonText: 75,
  url: 3000,
  /** The top-level `text`: Slack truncates past 40 000; a notification shows far less. */
  text: 3000,
} as const;

/** mrkdwn's three control characters as Slack wants them escaped: nothing else is needed for safety. */
export function escapeMrkdwn(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** A cut inside an escape (`&am…`) would leave a broken entity: move left of its `&`. */
function insideEntity(text: string, at: number): boolean {
  const amp = text.lastIndexOf('&', at - 1);
  if (amp < 0 || at - amp > 4) return false;
  const semi = text.indexOf(';', amp);
  return semi >= at;
}

/** Escaped mrkdwn cut to `max`, never inside an escape. */
function mrkdwn(text: string, max: number): { type: 'mrkdwn'; text: string } {
  return { type: 'mrkdwn', text: truncate(text, max, insideEntity) };
}

function plain(text: string, max: number): { type: 'plain_text'; text: string; emoji: false } {
  return { type: 'plain_text', text: truncate(text, max), emoji: false };
}

/** The Slack message for a notice, as the object to send as JSON. */
export function slackMessage(n: Notice): { text: string; blocks: Record<string, unknown>[] } {
  const blocks: Record<string, unknown>[] = [{ type: 'header', text: plain(n.headline, SLACK_LIMITS.headerText) }];
  blocks.push({
    type: 'section',
    fields: n.facts.slice(0, SLACK_LIMITS.sectionFields).map((f) => mrkdwn(`*${escapeMrkdwn(f.label)}*\n${escapeMrkdwn(f.value)}`, SLACK_LIMITS.fieldText)),
  });
  for (const d of n.details) {
    const body = d.lines.map((l) => `• ${escapeMrkdwn(l)}`).join('\n');
    blocks.push({ type: 'section', text: mrkdwn(`*${escapeMrkdwn(d.heading)}*\n${body}`, SLACK_LIMITS.sectionText) });
  }
  // A cut URL would lead somewhere else: past the limit the button is left out, not shortened.
  if (n.link && n.link.url.length <= SLACK_LIMITS.url) {
    blocks.push({ type: 'actions', elements: [{ type: 'button', text: plain(n.link.text, SLACK_LIMITS.buttonText), url: n.link.url }] });
  }
  blocks.push({ type: 'context', elements: [mrkdwn(escapeMrkdwn(n.footer), SLACK_LIMITS.sectionText)] });
  // The header, the facts, the footer and the button take four; the details are the ones to drop.
  const kept = blocks.length <= SLACK_LIMITS.blocks ? blocks : [...blocks.slice(0, SLACK_LIMITS.blocks - 2), ...blocks.slice(-2)];
  return { text: truncate(escapeMrkdwn(n.headline), SLACK_LIMITS.text, insideEntity), blocks: kept };
}
