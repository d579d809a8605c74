#!/usr/bin/env node
// Prints a new random API key and the `sha256:` line to put under a tenant's apiKeys in the tenants file.
import { apiKeyLine, newApiKey } from './lib/local.js'

const key = newApiKey()
console.log(`API key (give it to the caller; it is not stored anywhere): ${key}`)
console.log(`tenants file line (under apiKeys):                      - ${apiKeyLine(key)}`)
