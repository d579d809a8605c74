// Webhook signatures: Fluent's RSA signature on what it sends us, and our HMAC on what we forward.
import { createHmac, verify, type KeyObject } from 'node:crypto'

/** Strict base64 (standard alphabet, padded): Node's decoder skips stray characters, which would accept a mangled header. */
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/

/** Whether `signature` (the fluent-signature header: base64 SHA512withRSA) signs exactly these bytes with `key`. */
export function verifyFluentSignature (key: KeyObject, body: Buffer, signature: string | undefined): boolean {
  if (signature === undefined || signature === '' || signature.length > 4096 || !BASE64.test(signature)) return false
  try {
    return verify('sha512', body, key, Buffer.from(signature, 'base64'))
  } catch {
    return false
  }
}

/** The X-Signature header of a forwarded webhook: `sha256=` and the hex HMAC-SHA256 of the exact body. */
export function forwardSignature (secret: string, body: string | Buffer): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`
}
