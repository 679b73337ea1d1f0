/**
 * The tests StrykerJS runs against each mutant of src/domain and src/audit (`npm run mutation`,
 * docs/reliability.md): the unit tests of those folders, which run in process and in seconds. The
 * end-to-end tests also cover this code but start processes; a mutant they alone would kill is
 * listed as a survivor and explained, rather than paying minutes per mutant.
 */
import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['src/domain/**/*.test.ts', 'src/audit/**/*.test.ts'],
    testTimeout: 60_000,
    pool: 'forks',
  },
});
