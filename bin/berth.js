#!/usr/bin/env node
// Entry point of the `berth` command: runs the CLI, bundled at build time (tools/bundle-cli.mjs).
import '../dist/bundle/berth.js';
