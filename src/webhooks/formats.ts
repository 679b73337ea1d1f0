/**
 * How a webhook's deliveries are written (`webhook add --format`). The outbox keeps every delivery
 * as Tollgate's own JSON payload (events.ts); the dispatcher writes it in the webhook's format when it
 * sends it, because only the server knows its public URL (`serve --public-url`), which the chat
 * formats link the release page to. The same server sends the same bytes on every try; the signature
 * covers the body as sent, whatever the format.
 */
import type { WebhookFormat } from '../store/store.js';
import { noticeOf } from './notice.js';
import { slackMessage } from './slack-message.js';
import { teamsMessage } from './teams-message.js';

export const WEBHOOK_FORMATS: readonly WebhookFormat[] = ['json', 'slack', 'teams'];

export function isWebhookFormat(text: string): text is WebhookFormat {
  return (WEBHOOK_FORMATS as readonly string[]).includes(text);
}

/** The body to send for a stored payload: unchanged for `json`, a chat message for the others. */
export function renderDelivery(format: WebhookFormat, payload: string, publicUrl?: string): string {
  switch (format) {
    case 'json':
      return payload;
    case 'slack':
      return JSON.stringify(slackMessage(noticeOf(payload, publicUrl)));
    case 'teams':
      return JSON.stringify(teamsMessage(noticeOf(payload, publicUrl)));
    default: {
      const unknown: never = format;
      throw new Error(`webhook format ${String(unknown)} has no renderer`);
    }
  }
}
