/**
 * Fuzzing of every parser that takes outside input (issue 13, standing suite): policy YAML,
 * manifests, data contracts, checkpoints, durations and intervals, public keys, release names,
 * attestation bundles, and the files validators read (JUnit, SARIF, CycloneDX, metrics JSON, latency), plus
 * the API's JSON bodies. Inputs are generated (arbitrary text and JSON) and mutated from real
 * samples (bytes cut, repeated, replaced, lines shuffled). Each must give a result or a clear error
 * with a `TG_` code: never another exception (a crash), never a hang, never a 5xx, never a stack
 * trace in what a person reads.
 *
 * Runs: 150 inputs per parser in `.ci/run`; `TOLLGATE_FUZZ_RUNS=5000 npx vitest run
 * test/fuzz.parsers.test.ts` for a full run (figures in docs/reliability.md).
 * `TOLLGATE_FUZZ_SEED=N` replays a run.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseCheckpointBody } from '../src/audit/note.js';
import { verifyAttestation } from '../src/audit/attestation.js';
import { parseDuration, parseInterval } from '../src/domain/duration.js';
import { TollgateError } from '../src/domain/errors.js';
import { generateKeyPair, loadPrivateKey, parsePublicKey } from '../src/domain/keys.js';
import { parseManifest } from '../src/domain/manifest.js';
import { parsePolicy } from '../src/domain/policy.js';
import { parseReleaseRef } from '../src/service/lookup.js';
import { loadContract } from '../src/validators/schema/contract.js';
import { junitValidator, type JunitArgs } from '../src/validators/junit.js';
import { sarifValidator, type SarifArgs } from '../src/validators/sarif.js';
import { sbomValidator, type SbomArgs } from '../src/validators/sbom/index.js';
import { metricsValidator, type MetricsArgs } from '../src/validators/metrics.js';
import { parseLatencyData } from '../src/validators/latency.js';
import { fixtureDir, testContext } from './fixtures/validators/context.js';
import { buildTemplate, serve, V1, type Served, type Template } from './server-fixture.js';

const RUNS = Number(process.env.TOLLGATE_FUZZ_RUNS ?? 150);
const SEED = process.env.TOLLGATE_FUZZ_SEED !== undefined ? Number(process.env.TOLLGATE_FUZZ_SEED) : undefined;
const PARAMS = { numRuns: RUNS, ...(SEED !== undefined ? { seed: SEED } : {}) };
const EXAMPLE = path.resolve(import.meta.dirname, '../examples/project');
const read = (file: string): string => fs.readFileSync(file, 'utf8');

/** A sample mutated the way damaged or hostile files are: cuts, repeats, replacements, shuffled lines. */
function mutated(samples: readonly string[]): fc.Arbitrary<string> {
  const edit = fc.oneof(
    fc.record({ kind: fc.constant('cut' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }) }),
    fc.record({ kind: fc.constant('repeat' as const), at: fc.nat(), len: fc.integer({ min: 1, max: 40 }), times: fc.integer({ min: 2, max: 50 }) }),
    fc.record({ kind: fc.constant('insert' as const), at: fc.nat(), text: fc.oneof(fc.string({ maxLength: 8 }), fc.constantFrom('[', '{', '- ', ': ', '&a ', '*a', '"', "'", '\n  ', '\t', '\u0000', '<!--', '</', '${', '\\', '0x7f', '1e400', 'NaN', '-1', '__proto__', 'constructor')) }),
    fc.record({ kind: fc.constant('swap' as const), a: fc.nat(), b: fc.nat() }),
  );
  return fc.tuple(fc.constantFrom(...samples), fc.array(edit, { minLength: 1, maxLength: 6 })).map(([sample, edits]) => {
    let text = sample;
    for (const e of edits) {
      const at = text.length === 0 ? 0 : ('at' in e ? e.at : 0) % text.length;
      if (e.kind === 'cut') text = text.slice(0, at) + text.slice(at + e.len);
      else if (e.kind === 'repeat') text = text.slice(0, at) + text.slice(at, at + e.len).repeat(e.times) + text.slice(at);
      else if (e.kind === 'insert') text = text.slice(0, at) + e.text + text.slice(at);
      else {
        const lines = text.split('\n');
        if (lines.length > 1) {
          const i = e.a % lines.length;
          const j = e.b % lines.length;
          [lines[i], lines[j]] = [lines[j]!, lines[i]!];
        }
        text = lines.join('\n');
      }
    }
    return text;
  });
}

const anyText = fc.oneof(fc.string({ maxLength: 200 }), fc.string({ unit: 'binary', maxLength: 200 }), fc.json({ maxDepth: 4 }));

/** What a person reads must not be a stack trace or an engine's error. */
function expectClearMessage(message: string): void {
  expect(message.length).toBeGreaterThan(0);
  expect(message).not.toMatch(/\n\s+at .+:\d+:\d+/);
  expect(message).not.toMatch(/\b(TypeError|ReferenceError|RangeError|SyntaxError: Unexpected|Cannot read propert|is not a function|undefined is not|Maximum call stack)\b/);
}

/**
 * Calls a parser: a result, or a TollgateError with a TG_ code and a clear message. Anything else
 * fails. Parsers that only ever run inside a validator (`plain`) may throw a plain Error with a clear
 * message: the validator framework records it as an `errored` result.
 */
function parsesOrRefuses(parse: () => unknown, plain = false): void {
  try {
    parse();
  } catch (err) {
    if (plain && err instanceof Error && !(err instanceof TypeError) && !(err instanceof RangeError) && !(err instanceof ReferenceError)) {
      expectClearMessage(err.message);
      return;
    }
    if (!(err instanceof TollgateError)) throw new Error(`not a TollgateError: ${err instanceof Error ? `${err.name}: ${err.message}\n${err.stack}` : String(err)}`);
    expect(err.code).toMatch(/^TG_[A-Z_]+$/);
    expectClearMessage(err.message);
  }
}

describe('fuzz: text parsers give a result or a clear TG_ error', () => {
  const policy = read(path.join(EXAMPLE, 'tollgate.yaml'));
  const manifest = read(path.join(EXAMPLE, 'release.yaml'));
  const contract = read(path.join(EXAMPLE, 'contracts/tx.yaml'));
  const key = generateKeyPair();

  const CASES: ReadonlyArray<readonly [string, readonly string[], (text: string) => unknown, boolean?]> = [
    ['policy YAML', [policy], (t) => parsePolicy(t, 'tollgate.yaml')],
    ['release manifest', [manifest], (t) => parseManifest(t, 'release.yaml')],
    ['data contract', [contract], (t) => loadContract(t, 'contracts/tx.yaml'), true],
    ['duration', ['168h', '30d', '1h30m', '64h'], (t) => parseDuration(t)],
    ['freeze interval', ['2026-12-24T00:00:00Z/2026-12-27T00:00:00Z', '2026-12-24T00:00:00Z/P3D'], (t) => parseInterval(t)],
    ['public key', [key.publicKey], (t) => parsePublicKey(t)],
    ['release name', ['fraud-detector@2.4.0', 'a@b'], (t) => parseReleaseRef(t)],
  ];

  for (const [name, samples, parse, plain] of CASES) {
    it(`${name}: generated and mutated inputs`, () => {
      fc.assert(
        fc.property(fc.oneof(anyText, mutated(samples)), (text) => parsesOrRefuses(() => parse(text), plain === true)),
        PARAMS,
      );
    });
  }

  it('a checkpoint body: a checkpoint or a rejection with a reason, never an exception', () => {
    const sample = 'tollgate/test\n12\nq0kUr2hmDGs8ZQb2i4zzX8NrsTVyZ2Eobs/XKIO9tA8=\n2026-12-02T10:00:00.000Z\n';
    fc.assert(
      fc.property(fc.oneof(anyText, mutated([sample])), (text) => {
        const r = parseCheckpointBody(text);
        if (!r.ok) expectClearMessage(String((r as { reason?: unknown }).reason ?? 'rejected'));
      }),
      PARAMS,
    );
  });

  it('an attestation bundle: a verdict, never an exception', () => {
    const serverKey = loadPrivateKey(generateKeyPair().privateKeyPem);
    const bundle = JSON.stringify({ mediaType: 'application/vnd.dev.sigstore.bundle.v0.3+json', dsseEnvelope: { payloadType: 'application/vnd.in-toto+json', payload: 'e30=', signatures: [{ keyid: 'k', sig: 'AAAA' }] } });
    fc.assert(
      fc.property(fc.oneof(fc.jsonValue({ maxDepth: 5 }), mutated([bundle]).map((t) => { try { return JSON.parse(t) as unknown; } catch { return t; } })), (value) => {
        const verdict = verifyAttestation(value, serverKey);
        expect(typeof verdict.ok).toBe('boolean');
        if (!verdict.ok) expect(verdict.ok).toBe(false);
      }),
      PARAMS,
    );
  });

  it('latency data: numbers or a clear error', () => {
    fc.assert(
      fc.property(fc.oneof(anyText, mutated(['{"latency_ms": [12, 15.5, 20]}', 'latency_ms\n12\n15\n'])), (text) =>
        parsesOrRefuses(() => parseLatencyData(text, 'latency_ms'), true),
      ),
      PARAMS,
    );
  });
});

describe('fuzz: validators on damaged files answer passed, failed or errored', () => {
  let dir: string;
  beforeAll(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tollgate-fuzz-'));
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  const samples = (name: string, ext: RegExp): string[] =>
    fs
      .readdirSync(fixtureDir(name))
      .filter((f) => ext.test(f))
      .map((f) => read(path.join(fixtureDir(name), f)));

  async function runOn(text: string, file: string, run: (ctx: ReturnType<typeof testContext>) => Promise<{ status: string; summary: string }>): Promise<void> {
    fs.writeFileSync(path.join(dir, file), text);
    const outcome = await run(testContext(dir));
    expect(['passed', 'failed', 'errored']).toContain(outcome.status);
    expectClearMessage(outcome.summary);
  }

  it('junit XML', async () => {
    const seeds = samples('junit', /\.xml$/);
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyText, mutated(seeds)), (text) =>
        runOn(text, 'report.xml', (ctx) => junitValidator.run(junitValidator.schema.parse({ report: 'report.xml' }) as JunitArgs, ctx)),
      ),
      PARAMS,
    );
  });

  it('SARIF', async () => {
    const seeds = samples('sarif', /\.(sarif|json)$/);
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyText, mutated(seeds)), (text) =>
        runOn(text, 'scan.sarif', (ctx) => sarifValidator.run(sarifValidator.schema.parse({ report: 'scan.sarif' }) as SarifArgs, ctx)),
      ),
      PARAMS,
    );
  });

  it('CycloneDX SBOM', async () => {
    const seeds = samples('sbom', /\.json$/);
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyText, mutated(seeds)), (text) =>
        runOn(text, 'bom.cdx.json', (ctx) => sbomValidator.run(sbomValidator.schema.parse({ sbom: 'bom.cdx.json', allow: ['MIT'] }) as SbomArgs, ctx)),
      ),
      PARAMS,
    );
  });

  it('metrics JSON', async () => {
    const seeds = samples('metrics', /\.json$/);
    await fc.assert(
      fc.asyncProperty(fc.oneof(anyText, mutated(seeds)), (text) =>
        runOn(text, 'metrics.json', (ctx) =>
          metricsValidator.run(metricsValidator.schema.parse({ current: 'metrics.json', rules: ['accuracy >= 0.8'] }) as MetricsArgs, ctx),
        ),
      ),
      PARAMS,
    );
  });
});

describe('fuzz: API bodies get a 4xx with a TG_ code or a result, never a 5xx', () => {
  let template: Template;
  let s: Served;
  beforeAll(async () => {
    template = await buildTemplate();
    s = await serve(template);
  });
  afterAll(async () => {
    await s.close();
    fs.rmSync(template.dir, { recursive: true, force: true });
  });

  const ref = encodeURIComponent(V1);
  // Every route that takes a body, with a sample of what it accepts to mutate from.
  const ROUTES: ReadonlyArray<readonly [string, string, unknown]> = [
    ['POST', '/api/releases', { source: 'subject: s\nversion: 1.0.0\nrisk: low\nowner: alice\nartifacts: []\n', file: 'release.yaml' }],
    ['POST', '/api/policies', { source: 'apiVersion: tollgate/v1\nkind: Policy\nname: p\n', file: 'tollgate.yaml' }],
    ['POST', '/api/policies/diff', { source: 'apiVersion: tollgate/v1\n', file: 'tollgate.yaml' }],
    ['POST', `/api/releases/${ref}/checklist`, { stage: 'staging', item: 'datasets-listed' }],
    ['POST', `/api/releases/${ref}/signoffs`, { stage: 'staging', gate: 'g', role: 'security', decision: 'approve', at: '2026-12-02T10:00:00Z', signature: 'AAAA' }],
    ['POST', `/api/releases/${ref}/validations`, { stage: 'staging', results: [] }],
    ['POST', `/api/releases/${ref}/promotions`, { stage: 'staging' }],
    ['POST', `/api/releases/${ref}/signoff-drafts`, { stage: 'staging', role: 'security' }],
    ['POST', '/api/subjects/fraud-detector/rollbacks', { stage: 'staging', reason: 'bad' }],
    ['POST', `/api/releases/${ref}/clearances`, { stage: 'staging', reason: 'fixed' }],
    ['POST', '/api/audit/verify', {}],
    ['POST', '/api/webhooks', { url: 'https://hooks.example/x', events: ['release.promoted'] }],
    ['POST', '/api/tokens', { user: 'bob', expires: '30d' }],
  ];

  it.each(ROUTES)('%s %s', async (method, url, sample) => {
    const sampleText = JSON.stringify(sample);
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.stringify(v)), mutated([sampleText]), fc.string({ maxLength: 100 })),
        fc.constantFrom('admin', 'release-manager', 'security') as fc.Arbitrary<'admin' | 'release-manager' | 'security'>,
        async (payload, who) => {
          const res = await s.app.inject({
            method: method as 'POST',
            url,
            headers: { 'content-type': 'application/json', authorization: template.headers[who]! },
            payload,
          });
          expect(res.statusCode, `${method} ${url} ${payload.slice(0, 200)} → ${res.body.slice(0, 300)}`).toBeLessThan(500);
          if (res.statusCode >= 400) {
            const body = JSON.parse(res.body) as { error?: { code?: string; message?: string } };
            expect(body.error?.code).toMatch(/^TG_[A-Z_]+$/);
            expectClearMessage(body.error?.message ?? '');
          }
        },
      ),
      { ...PARAMS, numRuns: Math.max(10, Math.floor(RUNS / 3)) },
    );
  });
});
