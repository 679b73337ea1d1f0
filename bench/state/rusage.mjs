// Loaded with `node --import` into a child the state benchmark measures (a `tollgate` run): at exit,
// writes the process's own peak RSS and CPU time (process.resourceUsage) as JSON to the file named
// by TOLLGATE_BENCH_RUSAGE, so the parent reads the child's figures, not its own.
import fs from 'node:fs';

const out = process.env.TOLLGATE_BENCH_RUSAGE;
if (out) {
  process.on('exit', () => {
    const u = process.resourceUsage();
    fs.writeFileSync(out, JSON.stringify({ maxRssKiB: u.maxRSS, cpuS: (u.userCPUTime + u.systemCPUTime) / 1e6, uptimeS: process.uptime() }));
  });
}
