#!/usr/bin/env node
// Runs the TypeScript command-line entry in this process through tsx's loader, so no
// build step is needed and signals (SIGTERM from a supervisor) reach the gateway itself.
import { register } from 'tsx/esm/api';

register();
await import('../src/cli/main.ts');
