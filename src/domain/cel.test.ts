import { describe, expect, it } from 'vitest';
import { checkCondition, evaluateCondition, MAX_CONDITION_LENGTH } from './cel.js';
import { TollgateError } from './errors.js';
import type { ReleaseManifest, RiskTier } from './model.js';

function release(risk: RiskTier, extra: Partial<ReleaseManifest> = {}): ReleaseManifest {
  return {
    subject: 'fraud-detector',
    version: '2.4.0',
    risk,
    owner: 'alice',
    artifacts: [{ name: 'model', kind: 'model', path: 'model/model.onnx', sha256: 'a'.repeat(64) }],
    ...extra,
  };
}

describe('evaluateCondition', () => {
  it.each([
    ['low', false],
    ['medium', false],
    ['high', true],
    ['critical', true],
  ] as const)("release.risk in ['high', 'critical'] is %s → %s", (risk, expected) => {
    expect(evaluateCondition("release.risk in ['high', 'critical']", release(risk))).toBe(expected);
  });

  it.each([
    ["release.labels['team'] == 'fraud'", { labels: { team: 'fraud' } }, true],
    ["release.labels['team'] == 'fraud'", { labels: { team: 'growth' } }, false],
    ["'team' in release.labels && release.labels['team'] == 'fraud'", {}, false],
    ["'staging' in release.testedIn", { testedIn: ['dev', 'staging'] }, true],
    ["'staging' in release.testedIn", {}, false],
    ["release.subject == 'fraud-detector' && release.version.startsWith('2.')", {}, true],
    ["release.owner != 'alice'", {}, false],
  ] as const)('%s with %j → %s', (expr, extra, expected) => {
    expect(evaluateCondition(expr, release('high', extra))).toBe(expected);
  });

  it('a missing label is an error naming the expression, not a silent false', () => {
    const expr = "release.labels['team'] == 'fraud'";
    let err: unknown;
    try {
      evaluateCondition(expr, release('high'));
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TollgateError);
    expect((err as TollgateError).code).toBe('TG_POLICY_INVALID');
    expect((err as TollgateError).message).toContain(`condition "${expr}" cannot be evaluated for fraud-detector@2.4.0: No such key: team`);
  });

  it('evaluates the same expression again from the cache', () => {
    const expr = "release.risk == 'low'";
    expect(evaluateCondition(expr, release('low'))).toBe(true);
    expect(evaluateCondition(expr, release('high'))).toBe(false);
  });
});

describe('checkCondition', () => {
  it.each([
    "release.risk in ['high', 'critical']",
    "release.labels['team'] == 'fraud'",
    "size(release.testedIn) > 0 || release.owner == 'alice'",
    'true',
  ])('accepts %s', (expr) => {
    expect(checkCondition(expr)).toBeUndefined();
  });

  it.each([
    ["release.risk in ['high', 'critical'", /invalid condition .*: .* at character/],
    ['release.risk ==', /invalid condition "release.risk ==": Unexpected token: EOF at character 16/],
    ["risk == 'high'", /invalid condition "risk == 'high'": Unknown variable: risk at character 1 \(a condition reads only `release`\)/],
    ["release.tier == 'high'", /No such key: tier at character 9 \(fields of release: subject, version, risk, owner, labels, testedIn\)/],
    ['release.risk == 1', /no such overload: string == int/],
    ['release.risk', /gives a string, not true or false/],
    ['', /the condition is empty/],
    ['   ', /the condition is empty/],
  ])('rejects %j', (expr, why) => {
    expect(checkCondition(expr)).toMatch(why);
  });
});

describe('bounds (issue 13, finding 3)', () => {
  it('refuses matches(), method or function form: cel-js would run it with a backtracking RegExp', () => {
    expect(checkCondition("release.subject.matches('(a+)+$')")).toMatch(/calls matches\(\): regular expressions are not allowed/);
    expect(checkCondition("release.risk == 'high' || release.owner.matches('^(a|a)*$')")).toMatch(/calls matches\(\)/);
  });

  it('does not evaluate matches() either (a policy recorded before the check existed): it throws, quickly', () => {
    const started = Date.now();
    expect(() => evaluateCondition("release.subject.matches('^(a+)+$')", release('high', { subject: `${'a'.repeat(40)}!` }))).toThrow(TollgateError);
    expect(Date.now() - started).toBeLessThan(1000);
  });

  it('refuses a condition longer than the limit', () => {
    expect(checkCondition(`release.risk == '${'x'.repeat(MAX_CONDITION_LENGTH)}'`)).toMatch(/characters long; at most 2000/);
  });
});

describe('the words of each refusal, exactly', () => {
  it.each([
    ["release.risk in ['high', 'critical'", `invalid condition "release.risk in ['high', 'critical'": Expected RBRACKET, got EOF at character 36`],
    ['1 +', 'invalid condition "1 +": Unexpected token: EOF at character 4'],
    ["risk == 'high'", "invalid condition \"risk == 'high'\": Unknown variable: risk at character 1 (a condition reads only `release`)"],
    ["release.tier == 'high'", "invalid condition \"release.tier == 'high'\": No such key: tier at character 9 (fields of release: subject, version, risk, owner, labels, testedIn)"],
    ['release.risk == 1', 'invalid condition "release.risk == 1": no such overload: string == int at character 1'],
    ['release.risk', 'condition "release.risk" gives a string, not true or false'],
    ["release.subject.matches('a')", `condition "release.subject.matches('a')" calls matches(): regular expressions are not allowed in conditions (use ==, in, startsWith, endsWith or contains)`],
    [42, "the condition is empty: write a CEL expression, e.g. release.risk == 'high'"],
  ])('checkCondition(%j)', (expr, message) => {
    expect(checkCondition(expr as string)).toBe(message);
  });

  it('the longest condition allowed is MAX_CONDITION_LENGTH characters', () => {
    const head = "release.risk == '";
    const exactly = `${head}${'x'.repeat(MAX_CONDITION_LENGTH - head.length - 1)}'`;
    expect(exactly).toHaveLength(MAX_CONDITION_LENGTH);
    expect(checkCondition(exactly)).toBeUndefined();
    expect(checkCondition(`${exactly} `)).toBe(`the condition is ${MAX_CONDITION_LENGTH + 1} characters long; at most ${MAX_CONDITION_LENGTH}`);
  });

  it.each([
    ["release.labels['team'] == 'x'", `condition "release.labels['team'] == 'x'" cannot be evaluated for fraud-detector@2.4.0: No such key: team (guard it: 'KEY' in release.labels && release.labels['KEY'] == …)`],
    ["risk == 'x'", `condition "risk == 'x'" cannot be evaluated for fraud-detector@2.4.0: Unknown variable: risk (a condition reads only \`release\`)`],
    ['release.risk', 'condition "release.risk" gave string, not true or false, for fraud-detector@2.4.0'],
    ["release.owner.matches('a')", `condition "release.owner.matches('a')" cannot be evaluated for fraud-detector@2.4.0: matches() is not allowed in conditions`],
  ])('evaluateCondition(%j) throws TG_POLICY_INVALID', (expr, message) => {
    expect(() => evaluateCondition(expr, release('high'))).toThrow(expect.objectContaining({ code: 'TG_POLICY_INVALID', message }));
  });

  it('a release without labels or testedIn has them empty', () => {
    expect(evaluateCondition('size(release.testedIn) == 0 && size(release.labels) == 0', release('high'))).toBe(true);
  });
});
