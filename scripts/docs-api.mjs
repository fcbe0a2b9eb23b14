#!/usr/bin/env node
// Rewrites docs/api.md's coverage tables from the resource definitions (src/schema). `npm run docs:api` builds first.
import { readFileSync, writeFileSync } from 'node:fs';
import { SCHEMAS } from '../dist/src/schema/index.js';
import { updateApiDoc } from '../dist/src/schema/docs.js';

const path = new URL('../docs/api.md', import.meta.url);
const before = readFileSync(path, 'utf8');
const after = updateApiDoc(before, SCHEMAS);
if (after !== before) writeFileSync(path, after);
console.log(after === before ? 'docs/api.md is up to date' : 'docs/api.md rewritten from src/schema');
