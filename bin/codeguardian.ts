#!/usr/bin/env tsx
