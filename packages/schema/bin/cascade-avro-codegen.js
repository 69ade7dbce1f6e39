#!/usr/bin/env node
// The `cascade-avro-codegen` command. The implementation is compiled TypeScript in ../dist.
import { main } from '../dist/codegen-cli.js';

main();
