/**
 * A component's licenses as one SPDX expression tree, and the allow- and deny-list judgements on it.
 * Expressions are parsed by `spdx-expression-parse` (the parser npm itself uses); ids are SPDX's,
 * case-sensitive, or `LicenseRef-…`.
 */
import parseSpdx from 'spdx-expression-parse';
import type { LicenseChoice } from './document.js';

/** A license term: an SPDX id, something that is not one (a name, an unparsable text), or a combination. */
export type LicenseTerm =
  | { readonly id: string }
  | { readonly unknown: string }
  | { readonly and: readonly LicenseTerm[] }
  | { readonly or: readonly LicenseTerm[] };

/** True when `text` is one SPDX license id (or `LicenseRef-…`), as allow and deny lists take. */
export function isLicenseId(text: string): boolean {
  try {
    const info = parseSpdx(text);
    return 'license' in info && info.license === text && info.plus === undefined && info.exception === undefined;
  } catch {
    return false;
  }
}

function fromInfo(info: parseSpdx.Info): LicenseTerm {
  // `GPL-2.0+` and `X WITH exception` are judged by their license id: `+` offers later versions
  // on top and an exception only adds permissions, so neither takes away what the id grants.
  if ('license' in info) return { id: info.license };
  const left = fromInfo(info.left);
  const right = fromInfo(info.right);
  // `A AND (B AND C)` is one AND of three: a flat list reads better in messages.
  if (info.conjunction === 'and') {
    const parts = (t: LicenseTerm) => ('and' in t ? t.and : [t]);
    return { and: [...parts(left), ...parts(right)] };
  }
  const parts = (t: LicenseTerm) => ('or' in t ? t.or : [t]);
  return { or: [...parts(left), ...parts(right)] };
}

function fromExpression(expression: string): LicenseTerm {
  try {
    return fromInfo(parseSpdx(expression));
  } catch {
    return { unknown: expression };
  }
}

/**
 * The license terms of a component. Several entries all apply (AND): CycloneDX does not say they
 * are alternatives, so the cautious reading is taken. When some are marked `concluded` (an analyst's
 * finding), only those count, over what the package `declared`. None at all: one unknown term.
 */
export function licenseTerm(choices: readonly LicenseChoice[]): LicenseTerm {
  const ack = (c: LicenseChoice) => c.acknowledgement ?? c.license?.acknowledgement;
  const concluded = choices.filter((c) => ack(c) === 'concluded');
  const used = concluded.length > 0 ? concluded : choices;
  const terms = used.map((c): LicenseTerm => {
    if (c.expression !== undefined) return fromExpression(c.expression);
    if (c.license?.id !== undefined) return { id: c.license.id };
    return { unknown: c.license?.name ?? '(unnamed license)' };
  });
  if (terms.length === 0) return { unknown: 'no license' };
  return terms.length === 1 ? terms[0]! : { and: terms };
}

/** The term as SPDX writes it, for messages: `(MIT OR Apache-2.0)`, a name quoted. */
export function describeTerm(t: LicenseTerm, nested = false): string {
  if ('id' in t) return t.id;
  if ('unknown' in t) return t.unknown === 'no license' ? 'no license' : JSON.stringify(t.unknown);
  const [op, parts] = 'and' in t ? (['AND', t.and] as const) : (['OR', t.or] as const);
  const text = parts.map((p) => describeTerm(p, true)).join(` ${op} `);
  return nested ? `(${text})` : text;
}

/** Every SPDX id the term names. */
export function idsOf(t: LicenseTerm): string[] {
  if ('id' in t) return [t.id];
  if ('unknown' in t) return [];
  return ('and' in t ? t.and : t.or).flatMap(idsOf);
}

/** The parts of the term that are not SPDX ids (license names, text that does not parse, none). */
export function unknownsOf(t: LicenseTerm): string[] {
  if ('unknown' in t) return [t.unknown];
  if ('id' in t) return [];
  return ('and' in t ? t.and : t.or).flatMap(unknownsOf);
}

/**
 * Whether the allowed ids satisfy the term: an id when listed; `AND` when every part is; `OR` when
 * one part is. `undefined` when it depends on a part that is not an SPDX id.
 */
export function satisfiedBy(t: LicenseTerm, allowed: ReadonlySet<string>): boolean | undefined {
  if ('id' in t) return allowed.has(t.id);
  if ('unknown' in t) return undefined;
  const results = ('and' in t ? t.and : t.or).map((p) => satisfiedBy(p, allowed));
  if ('and' in t) return results.includes(false) ? false : results.includes(undefined) ? undefined : true;
  return results.includes(true) ? true : results.includes(undefined) ? undefined : false;
}
