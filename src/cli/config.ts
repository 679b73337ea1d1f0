import path from 'node:path';

/** Everything the CLI reads from flags and the environment, read once and frozen (STYLE.md rule 7). */
export interface CliConfig {
  readonly home: string;
  readonly databaseUrl: string;
  readonly user?: string;
  readonly json: boolean;
  readonly server?: string;
  readonly token?: string;
  readonly cwd: string;
}

export interface GlobalFlags {
  home?: string;
  database?: string;
  server?: string;
  as?: string;
  json?: boolean;
}

// Defaults, one table:            flag          env                     default
//   home                          --home        TOLLGATE_HOME           .tollgate (in the current folder)
//   database                      --database    TOLLGATE_DATABASE_URL   <home>/tollgate.db
//   user                          --as          TOLLGATE_USER           none
//   server (remote mode)          --server      TOLLGATE_SERVER         none (local mode)
//   token                         -             TOLLGATE_TOKEN          none
export function loadConfig(env: NodeJS.ProcessEnv, flags: GlobalFlags, cwd: string): CliConfig {
  const home = path.resolve(cwd, flags.home ?? env.TOLLGATE_HOME ?? '.tollgate');
  const databaseUrl = flags.database ?? env.TOLLGATE_DATABASE_URL ?? path.join(home, 'tollgate.db');
  const user = flags.as ?? env.TOLLGATE_USER;
  const server = flags.server ?? env.TOLLGATE_SERVER;
  return Object.freeze({
    home,
    databaseUrl,
    json: flags.json === true,
    cwd,
    ...(user ? { user } : {}),
    ...(server ? { server } : {}),
    ...(env.TOLLGATE_TOKEN ? { token: env.TOLLGATE_TOKEN } : {}),
  });
}
