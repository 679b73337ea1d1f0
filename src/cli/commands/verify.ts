import path from 'node:path';
import type { Command } from 'commander';
import { verifyAttestation } from '../../audit/attestation.js';
import { tollgateError } from '../../domain/errors.js';
import { parsePublicKey } from '../../domain/keys.js';
import type { CliContext } from '../context.js';
import { readTextFile } from '../files.js';

/** `--key` takes the key itself (`ed25519:…`) or a file holding it. */
function keyArg(arg: string, cwd: string) {
  const text = arg.startsWith('ed25519:') ? arg : readTextFile(path.resolve(cwd, arg));
  return parsePublicKey(text);
}

/** `tollgate verify FILE --key PUB`: checks an attestation offline, with no home, database or server. */
export function registerVerify(program: Command, ctx: CliContext): void {
  program
    .command('verify')
    .description('verify an attestation offline: signatures, policy, re-evaluated decision, inclusion proof, checkpoint; exit 4 naming what fails')
    .argument('<file>', 'the attestation bundle')
    .requiredOption('--key <key|file>', "the server's public key (ed25519:… or a file holding it)")
    .action((file: string, opts: { key: string }) => {
      const cwd = ctx.config().cwd;
      // The file first: a missing attestation is the first thing to say, whatever the key.
      const text = readTextFile(path.resolve(cwd, file));
      const key = keyArg(opts.key, cwd);
      let bundle: unknown;
      try {
        bundle = JSON.parse(text);
      } catch {
        // A bundle cut short or garbled fails verification like any other change: the fields DESIGN.md
        // names for `verify` (ok, checked, failure), with the error's code for scripts that match on it.
        const failure = `${file} is not JSON`;
        ctx.emit({ ok: false, checked: [], failure, error: tollgateError('TG_VERIFY_FAILED', failure).toJSON().error }, () => `✘ ${failure}`);
        ctx.exitCode = 4;
        return;
      }
      const verdict = verifyAttestation(bundle, key);
      ctx.emit(verdict, () => [
        ...verdict.checked.map((c) => `✔ ${c}`),
        verdict.ok ? `verified: ${file}` : `✘ ${verdict.failure}`,
      ]);
      if (!verdict.ok) ctx.exitCode = 4;
    });
}
