// The loader hook of trace-modules.mjs: one line per ES module loaded (its URL).
import fs from 'node:fs';

let out;

export function initialize(data) {
  out = data.out;
}

export async function load(url, context, next) {
  fs.appendFileSync(out, `${url}\n`);
  return next(url, context);
}
