#!/usr/bin/env node
// Prints a new random API key and the `sha256:` line to put under a tenant's apiKeys in the tenants file.
import { createHash, randomBytes } from 'node:crypto'

const key = `fgw_${randomBytes(24).toString('base64url')}`
const digest = createHash('sha256').update(key).digest('hex')
console.log(`API key (give it to the caller; it is not stored anywhere): ${key}`)
console.log(`tenants file line (under apiKeys):                      - sha256:${digest}`)
