/**
 * Where a webhook may point (issue 13, finding 5). A webhook makes the server send requests to a URL
 * a roster admin chose, and the delivery log shows what came back: without a guard, a port scanner
 * of the server's own network and a reader of cloud metadata (169.254.169.254). So a webhook's host
 * must resolve only to public addresses; checked when the webhook is added and again at every try
 * (DNS can change in between), and the connection goes to the very addresses checked, never to a
 * second lookup's answer. Redirects are not followed at all (the dispatcher sends `redirect: manual`,
 * and a 3xx is a failed try). `serve --allow-private-webhooks` turns the guard off, for receivers on
 * the server's own network.
 */
import dns from 'node:dns/promises';
import net from 'node:net';

/** Address ranges no webhook may reach, by what they are (the name goes into the refusal). */
const RANGES: readonly (readonly [string, readonly [string, number, 'ipv4' | 'ipv6'][]])[] = [
  ['loopback', [['127.0.0.0', 8, 'ipv4'], ['::1', 128, 'ipv6']]],
  ['unspecified', [['0.0.0.0', 8, 'ipv4'], ['::', 128, 'ipv6']]],
  ['private', [['10.0.0.0', 8, 'ipv4'], ['172.16.0.0', 12, 'ipv4'], ['192.168.0.0', 16, 'ipv4'], ['100.64.0.0', 10, 'ipv4'], ['fc00::', 7, 'ipv6']]],
  ['link-local (cloud metadata)', [['169.254.0.0', 16, 'ipv4'], ['fe80::', 10, 'ipv6'], ['fec0::', 10, 'ipv6']]],
  [
    'reserved',
    [
      ['192.0.0.0', 24, 'ipv4'],
      ['192.0.2.0', 24, 'ipv4'],
      ['198.18.0.0', 15, 'ipv4'],
      ['198.51.100.0', 24, 'ipv4'],
      ['203.0.113.0', 24, 'ipv4'],
      ['224.0.0.0', 4, 'ipv4'],
      ['240.0.0.0', 4, 'ipv4'],
      ['2001:db8::', 32, 'ipv6'],
      ['ff00::', 8, 'ipv6'],
    ],
  ],
];

const LISTS = RANGES.map(([kind, ranges]) => {
  const list = new net.BlockList();
  for (const [address, prefix, type] of ranges) list.addSubnet(address, prefix, type);
  return [kind, list] as const;
});

/**
 * What kind of non-public address `ip` is, or undefined for a public one. An IPv6 address that
 * carries an IPv4 one (mapped `::ffff:a.b.c.d`, NAT64 `64:ff9b::/96`, IPv4-compatible `::a.b.c.d`)
 * is judged by the IPv4 address it reaches.
 */
export function nonPublicKind(ip: string): string | undefined {
  const type = net.isIP(ip);
  if (type === 0) return 'not an IP address';
  if (type === 6) {
    const embedded = embeddedIpv4(ip);
    if (embedded !== undefined) return nonPublicKind(embedded);
  }
  for (const [kind, list] of LISTS) if (list.check(ip, type === 4 ? 'ipv4' : 'ipv6')) return kind;
  return undefined;
}

/** The IPv4 address an IPv6 one embeds (mapped, NAT64 or compatible), if any. */
function embeddedIpv4(ip: string): string | undefined {
  const words = expandIpv6(ip);
  if (words === undefined) return undefined;
  const mapped = words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff;
  const nat64 = words[0] === 0x64 && words[1] === 0xff9b && words.slice(2, 6).every((w) => w === 0);
  const compatible = words.slice(0, 6).every((w) => w === 0) && (words[6] !== 0 || words[7]! > 1);
  if (!mapped && !nat64 && !compatible) return undefined;
  return [words[6]! >> 8, words[6]! & 0xff, words[7]! >> 8, words[7]! & 0xff].join('.');
}

/** An IPv6 address as its eight 16-bit words. */
function expandIpv6(ip: string): number[] | undefined {
  let text = ip.split('%')[0]!;
  const v4 = /(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  if (v4) {
    const [a, b, c, d] = v4[1]!.split('.').map(Number) as [number, number, number, number];
    text = `${text.slice(0, -v4[1]!.length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head, tail] = text.includes('::') ? text.split('::') : [text, undefined];
  const h = head ? head.split(':') : [];
  const t = tail !== undefined && tail !== '' ? tail.split(':') : [];
  const fill = tail !== undefined ? 8 - h.length - t.length : 0;
  const words = [...h, ...Array<string>(Math.max(0, fill)).fill('0'), ...t].map((w) => parseInt(w, 16));
  return words.length === 8 && words.every((w) => Number.isInteger(w) && w >= 0 && w <= 0xffff) ? words : undefined;
}

/** A webhook URL that may not be used, and why; `retryable` when the cause may pass (a failed lookup). */
export class WebhookTargetRefused extends Error {
  constructor(
    message: string,
    readonly retryable = false,
  ) {
    super(message);
    this.name = 'WebhookTargetRefused';
  }
}

/** The checked addresses of a webhook's host: connect to these and no others. */
export interface CheckedTarget {
  readonly url: URL;
  readonly addresses: readonly { readonly address: string; readonly family: 4 | 6 }[];
}

export type LookupAll = (host: string) => Promise<readonly { address: string; family: number }[]>;

const systemLookup: LookupAll = (host) => dns.lookup(host, { all: true, verbatim: true });

/**
 * Resolves the URL's host and checks every address it resolves to; throws WebhookTargetRefused when
 * one is not public (all must be: a client may connect to any of them) or when it cannot be resolved.
 * The URL parser has already read `0x7f000001`, `2130706433` and `127.1` as 127.0.0.1.
 */
export async function checkWebhookTarget(urlText: string, lookup: LookupAll = systemLookup): Promise<CheckedTarget> {
  const url = new URL(urlText);
  const host = url.hostname.replace(/^\[(.*)\]$/, '$1');
  let found: readonly { address: string; family: number }[];
  if (net.isIP(host) !== 0) found = [{ address: host, family: net.isIP(host) }];
  else {
    try {
      found = await lookup(host);
    } catch (err) {
      throw new WebhookTargetRefused(`the host ${host} cannot be resolved (${(err as NodeJS.ErrnoException).code ?? (err as Error).message})`, true);
    }
    if (found.length === 0) throw new WebhookTargetRefused(`the host ${host} resolves to no address`, true);
  }
  for (const { address } of found) {
    const kind = nonPublicKind(address);
    if (kind !== undefined) {
      throw new WebhookTargetRefused(address === host ? `${host} is a ${kind} address` : `the host ${host} resolves to ${address}, a ${kind} address`);
    }
  }
  return { url, addresses: found.map(({ address, family }) => ({ address, family: family === 6 ? 6 : 4 })) };
}
