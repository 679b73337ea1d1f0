/**
 * A notice (notice.ts) as a Microsoft Teams message: one Adaptive Card (version 1.4, what Teams
 * renders) in a `message`'s attachments, as Teams incoming webhooks and Workflows take it. Text that
 * came from a person is escaped for the card's Markdown, so a reason cannot make a link
 * (`[click](https://evil)`) or restyle the card, and long text is cut with "…" (Teams refuses a
 * message over about 28 KB).
 */
import { truncate, type Notice } from './notice.js';

export const ADAPTIVE_CARD = 'application/vnd.microsoft.card.adaptive';

/** The most characters of one text block: a reason or a list of unmet requirements stays readable. */
export const TEAMS_TEXT_MAX = 3000;

/**
 * Backslash-escapes what makes Markdown in an Adaptive Card: `[`, `]` (links), `*`, `_`, `~`, `` ` ``
 * (emphasis, code), `<`, `>` (autolinks) and the backslash itself. Without brackets no `[text](url)`
 * can form, so parentheses stay as written.
 */
export function escapeCardMarkdown(text: string): string {
  return text.replace(/[\\`*_~[\]<>]/g, (c) => `\\${c}`);
}

/** A cut right after a backslash would escape the "…" and lose the character it escaped. */
function afterBackslash(text: string, at: number): boolean {
  return text[at - 1] === '\\';
}

function textBlock(text: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type: 'TextBlock', text: truncate(text, TEAMS_TEXT_MAX, afterBackslash), wrap: true, ...extra };
}

/** The Teams message for a notice, as the object to send as JSON. */
export function teamsMessage(n: Notice): { type: 'message'; attachments: Record<string, unknown>[] } {
  const body: Record<string, unknown>[] = [
    textBlock(escapeCardMarkdown(n.headline), { size: 'Medium', weight: 'Bolder' }),
    { type: 'FactSet', facts: n.facts.map((f) => ({ title: f.label, value: truncate(escapeCardMarkdown(f.value), TEAMS_TEXT_MAX, afterBackslash) })) },
  ];
  for (const d of n.details) {
    body.push(textBlock(escapeCardMarkdown(d.heading), { weight: 'Bolder', spacing: 'Medium' }));
    body.push(textBlock(d.lines.map((l) => `- ${escapeCardMarkdown(l)}`).join('\n')));
  }
  body.push(textBlock(escapeCardMarkdown(n.footer), { isSubtle: true, size: 'Small', spacing: 'Medium' }));
  const actions = n.link ? [{ type: 'Action.OpenUrl', title: n.link.text, url: n.link.url }] : [];
  return {
    type: 'message',
    attachments: [
      {
        contentType: ADAPTIVE_CARD,
        contentUrl: null,
        content: { $schema: 'http://adaptivecards.io/schemas/adaptive-card.json', type: 'AdaptiveCard', version: '1.4', body, actions },
      },
    ],
  };
}
