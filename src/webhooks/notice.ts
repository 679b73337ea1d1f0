/**
 * What a chat message about a webhook event says, whichever chat it goes to (slack-message.ts,
 * teams-message.ts): a headline (what happened, to which release and stage), the facts (who, when,
 * the audit event), the details worth reading in the channel (a rollback's reason, what blocked a
 * promotion), and a link to the release page on the review desk when the server knows its public URL.
 * Read from the delivery's own JSON payload (events.ts), so a chat message never says more, or
 * other, than the signed JSON delivery of the same event would.
 */

/** The JSON payload of a delivery, as `deliveryPayload` writes it. */
interface Payload {
  readonly id: string;
  readonly type: string;
  readonly at: string;
  readonly actor: string;
  readonly data: Readonly<Record<string, unknown>>;
  readonly audit: { readonly seq: number; readonly type: string; readonly hash: string };
}

export interface Notice {
  /** One line: what happened, to which release and stage. Plain text: the renderers escape it. */
  readonly headline: string;
  /** Label and value pairs, in order; plain text. */
  readonly facts: readonly { readonly label: string; readonly value: string }[];
  /** Longer text under a heading (a reason, the unmet requirements), in order; plain text. */
  readonly details: readonly { readonly heading: string; readonly lines: readonly string[] }[];
  /** The release page on the review desk; absent without `serve --public-url`. */
  readonly link?: { readonly text: string; readonly url: string };
  /** The delivery and audit event it reports, for the footer. */
  readonly footer: string;
}

const str = (v: unknown): string | undefined => (typeof v === 'string' && v !== '' ? v : undefined);
const list = (v: unknown): unknown[] => (Array.isArray(v) ? v : []);
const field = (v: unknown, key: string): unknown => (v !== null && typeof v === 'object' ? (v as Record<string, unknown>)[key] : undefined);

/** `user:dave` reads as `dave`; other actors (`validator:drift`, `anonymous`) as they are. */
function who(actor: string): string {
  return actor.startsWith('user:') ? actor.slice('user:'.length) : actor;
}

/** The desk's release page: the same path as the desk's own links (server/desk/html.ts `releaseHref`). */
export function releasePageUrl(publicUrl: string, ref: string, stage: string | undefined): string {
  const base = publicUrl.replace(/\/+$/, '');
  return `${base}/releases/${encodeURIComponent(ref).replace(/%40/g, '@')}${stage ? `?stage=${encodeURIComponent(stage)}` : ''}`;
}

/** The notice for one delivery payload; `publicUrl` is `serve --public-url`, when given. */
export function noticeOf(payloadJson: string, publicUrl?: string): Notice {
  const p = JSON.parse(payloadJson) as Payload;
  const d = p.data ?? {};
  const stage = str(d.stage);
  // The release the event is about; a rollback's is the one that holds the stage now.
  const release = str(d.release) ?? str(d.to);
  const at = stage ?? '?';
  const by = who(p.actor);
  const facts: { label: string; value: string }[] = [];
  const details: { heading: string; lines: string[] }[] = [];
  let headline: string;
  switch (p.type) {
    case 'release.promoted': {
      const glass = d.breakGlass;
      headline = `${release} promoted to ${at}${glass ? ' (break-glass)' : ''}`;
      facts.push({ label: 'Release', value: String(release) }, { label: 'Stage', value: at }, { label: 'Promoted by', value: by });
      facts.push({ label: 'Previous', value: str(d.previous) ?? 'none' });
      const policy = field(d.policy, 'version');
      if (policy !== undefined) facts.push({ label: 'Policy', value: `version ${String(policy)}` });
      if (glass) {
        details.push({ heading: 'Break-glass reason', lines: [String(field(glass, 'reason') ?? '')] });
        const past = list(field(glass, 'unmet')).map(String);
        if (past.length > 0) details.push({ heading: 'Promoted past', lines: past });
      }
      break;
    }
    case 'promotion.blocked':
      headline = `Promotion of ${release} to ${at} blocked`;
      facts.push({ label: 'Release', value: String(release) }, { label: 'Stage', value: at }, { label: 'Tried by', value: by });
      details.push({ heading: 'Unmet requirements', lines: list(d.unmet).map(String) });
      break;
    case 'signoff.requested':
      headline = `Sign-off wanted: ${release} to ${at}`;
      // Who tried to promote: the sign-offs are wanted for that promotion.
      facts.push({ label: 'Release', value: String(release) }, { label: 'Stage', value: at }, { label: 'Promotion tried by', value: by });
      details.push({
        heading: 'Sign-offs wanted',
        lines: list(d.signoffsNeeded).map((s) => `${String(field(s, 'role'))} (gate ${String(field(s, 'gate'))}, ${String(field(s, 'outcome'))})`),
      });
      break;
    case 'signoff.recorded': {
      const decision = str(d.decision) === 'reject' ? 'rejected' : 'approved';
      headline = `${by} ${decision} ${release} for ${at} as ${String(d.role)}`;
      facts.push({ label: 'Release', value: String(release) }, { label: 'Stage', value: at }, { label: 'Signed by', value: by });
      facts.push({ label: 'Role', value: String(d.role) }, { label: 'Gate', value: String(d.gate) }, { label: 'Decision', value: decision });
      break;
    }
    case 'release.rolled_back':
      headline = `${String(d.subject)} rolled back in ${at}: ${String(d.from)} → ${String(d.to)}`;
      facts.push({ label: 'From', value: String(d.from) }, { label: 'To', value: String(d.to) }, { label: 'Stage', value: at }, { label: 'Rolled back by', value: by });
      details.push({ heading: 'Reason', lines: [String(d.reason ?? '')] });
      break;
    case 'handoff.failed':
      headline = `Hand-off of ${release} to ${at} failed`;
      facts.push({ label: 'Release', value: String(release) }, { label: 'Stage', value: at }, { label: 'By', value: by });
      details.push({
        heading: 'Hand-offs',
        lines: list(d.handoffs).map((h) => {
          const error = str(field(h, 'error'));
          return `${String(field(h, 'kind'))} ${String(field(h, 'target'))}: ${String(field(h, 'outcome'))} after ${String(field(h, 'attempts'))} attempt(s)${error ? `: ${error}` : ''}`;
        }),
      });
      break;
    default:
      // A type added after this renderer: say what is known rather than nothing.
      headline = `${p.type}${release ? `: ${release}` : ''}${stage ? ` (${stage})` : ''}`;
      facts.push({ label: 'By', value: by });
  }
  facts.push({ label: 'At', value: p.at });
  return {
    headline,
    facts,
    details: details.filter((x) => x.lines.length > 0),
    ...(publicUrl !== undefined && release !== undefined ? { link: { text: 'Open the release', url: releasePageUrl(publicUrl, release, stage) } } : {}),
    footer: `Tollgate ${p.type} · audit #${p.audit.seq} · ${p.id}`,
  };
}

/**
 * `text` cut to at most `max` UTF-16 code units, ending in "…" when cut, never between the two
 * halves of a surrogate pair. `unsafe(cut)` may refuse a cut point (inside an escape): it moves left.
 */
export function truncate(text: string, max: number, unsafe: (text: string, at: number) => boolean = () => false): string {
  if (text.length <= max) return text;
  let at = max - 1;
  while (at > 0 && (isLowSurrogate(text.charCodeAt(at)) || unsafe(text, at))) at--;
  return `${text.slice(0, at)}…`;
}

function isLowSurrogate(code: number): boolean {
  return code >= 0xdc00 && code <= 0xdfff;
}
