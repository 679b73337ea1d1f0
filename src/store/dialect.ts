/**
 * The SQL dialects the store runs on, in a file of their own: the migrations (built per dialect) and
 * the store both name them, and neither has to import the other for it.
 */
export type SqlDialectName = 'sqlite' | 'postgres';
