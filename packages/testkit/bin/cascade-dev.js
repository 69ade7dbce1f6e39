#!/usr/bin/env node
// The `cascade-dev` command. The implementation is compiled TypeScript in ../dist.
import '../dist/cli.js';
