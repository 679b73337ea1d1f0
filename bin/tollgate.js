#!/usr/bin/env node
// Runs the bundled CLI (scripts/bundle-cli.mjs, written by `npm run build`): the code of dist/cli/main.js
// and what it imports, linked into a few dozen chunks, which Node loads far faster than the files
// one by one (issue 9).
import { main } from '../dist/bundle/tollgate.js';

process.exitCode = await main(process.argv.slice(2));
