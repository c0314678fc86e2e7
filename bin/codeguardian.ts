#!/usr/bin/env tsx
/** The `codeguardian` command under tsx; bin/codeguardian.mjs is the same command for Node alone. */
import './codeguardian.mjs';
