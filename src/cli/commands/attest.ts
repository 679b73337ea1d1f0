import fs from 'node:fs';
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

export function registerAttest(program: Command, ctx: CliContext): void {
  program
    .command('attest')
    .description('export the signed attestation (DSSE, in-toto Statement v1) of a release\'s promotion into a stage')
    .argument('<release>', 'SUBJECT@VERSION')
    .requiredOption('--stage <stage>', 'the stage it was promoted into')
    .option('-o, --output <file>', 'write the bundle here (default: stdout)')
    .action(async (ref: string, opts: { stage: string; output?: string }) => {
      const client = await ctx.openClient();
      const envelope = await client.attest(ref, opts.stage);
      const text = JSON.stringify(envelope, null, 2) + '\n';
      if (!opts.output) {
        ctx.io.stdout(text);
        return;
      }
      const file = path.resolve(ctx.config().cwd, opts.output);
      fs.mkdirSync(path.dirname(file), { recursive: true });
      const tmp = `${file}.${process.pid}.tmp`;
      fs.writeFileSync(tmp, text);
      fs.renameSync(tmp, file);
      ctx.emit({ release: ref, stage: opts.stage, file }, () => `wrote the attestation of ${ref} → ${opts.stage} to ${file}`);
    });

  program
    .command('verify')
    .description('verify an attestation offline: signatures, policy, re-evaluated decision, inclusion proof, checkpoint; exit 4 naming what fails')
    .argument('<file>', 'the attestation bundle')
    .requiredOption('--key <key|file>', "the server's public key (ed25519:… or a file holding it)")
    .action((file: string, opts: { key: string }) => {
      const cwd = ctx.config().cwd;
      const key = keyArg(opts.key, cwd);
      let bundle: unknown;
      try {
        bundle = JSON.parse(readTextFile(path.resolve(cwd, file)));
      } catch (err) {
        if ((err as { code?: string }).code === 'TG_FILE_NOT_FOUND') throw err;
        throw tollgateError('TG_VERIFY_FAILED', `${file} is not JSON`);
      }
      const verdict = verifyAttestation(bundle, key);
      ctx.emit(verdict, () => [
        ...verdict.checked.map((c) => `✔ ${c}`),
        verdict.ok ? `verified: ${file}` : `✘ ${verdict.failure}`,
      ]);
      if (!verdict.ok) ctx.exitCode = 4;
    });
}
