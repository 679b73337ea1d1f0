/**
 * The tests StrykerJS runs against each mutant of src/domain and src/audit (`npm run mutation`,
 * docs/reliability.md): the unit tests of those folders, which run in process and in seconds. The
 * end-to-end tests also cover this code but start processes; a mutant they alone would kill is
 * listed as a survivor and explained, rather than paying minutes per mutant.
 *
 * TOLLGATE_MUTATION_TESTS (comma-separated files or globs) narrows the run to some test files: a
 * *static* mutant (a constant, a pattern, a table evaluated when its module loads) runs every test
 * file, about 12 s each here, and a module's static mutants can only be killed by the tests that load
 * it. A figure measured so is a lower bound: a kill by a test left out would not be counted.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: process.env.TOLLGATE_MUTATION_TESTS?.split(',') ?? ['src/domain/**/*.test.ts', 'src/audit/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
