// Values at rest in Redis, sealed with AES-256-GCM and bound to their Redis key (the AAD) when an encryption key is set.
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto'

const VERSION = 'v1:'

/** `text` as stored under `redisKey`: itself without a key, else `v1:` + base64(iv | tag | ciphertext). */
export function seal (encryptionKey: Buffer | undefined, redisKey: string, text: string): string {
  if (encryptionKey === undefined) return text
  const iv = randomBytes(12)
  const cipher = createCipheriv('aes-256-gcm', encryptionKey, iv)
  cipher.setAAD(Buffer.from(redisKey))
  const sealed = Buffer.concat([cipher.update(text, 'utf8'), cipher.final()])
  return `${VERSION}${Buffer.concat([iv, cipher.getAuthTag(), sealed]).toString('base64')}`
}

/**
 * The text sealed under `redisKey`, or undefined when it does not open: another key, a value copied from another Redis
 * key, tampered, or (with encryption on) plaintext, and (with it off) a sealed value nobody here can read.
 */
export function unseal (encryptionKey: Buffer | undefined, redisKey: string, value: string): string | undefined {
  if (encryptionKey === undefined) return value.startsWith(VERSION) ? undefined : value
  if (!value.startsWith(VERSION)) return undefined
  try {
    const raw = Buffer.from(value.slice(VERSION.length), 'base64')
    const decipher = createDecipheriv('aes-256-gcm', encryptionKey, raw.subarray(0, 12))
    decipher.setAAD(Buffer.from(redisKey))
    decipher.setAuthTag(raw.subarray(12, 28))
    return Buffer.concat([decipher.update(raw.subarray(28)), decipher.final()]).toString('utf8')
  } catch {
    return undefined
  }
}
