// Fluent's OAuth token endpoint: password and refresh grants, form body only (never credentials in a URL).
import type { Tenant } from '../config/tenants.js'
import { RateLimitedError, UpstreamAuthFailedError, UpstreamUnavailableError, withExtras } from '../errors.js'
import type { Transport } from './transport.js'
import { callFailure, retryAfterSeconds } from './classify.js'

export interface TokenGrant {
  accessToken: string
  expiresInSeconds: number
  refreshToken?: string
}

/** Asks Fluent for a token: with `refreshToken` the refresh grant, otherwise the password grant. */
export async function requestToken (transport: Transport, tenant: Tenant, refreshToken: string | undefined, signal: AbortSignal): Promise<TokenGrant> {
  const { baseUrl, clientId, clientSecret, username, password } = tenant.fluent
  const form: Record<string, string> = refreshToken === undefined
    ? { grant_type: 'password', username, password, client_id: clientId, client_secret: clientSecret, scope: 'api' }
    : { grant_type: 'refresh_token', refresh_token: refreshToken, client_id: clientId, client_secret: clientSecret }

  let answer
  try {
    answer = await transport.request('POST', `${baseUrl}/oauth/token`, {
      'content-type': 'application/x-www-form-urlencoded',
      accept: 'application/json'
    }, new URLSearchParams(form).toString(), signal)
  } catch (error) {
    throw callFailure(error, signal, 'token request')
  }

  let body: Record<string, unknown> | undefined
  try {
    body = JSON.parse(answer.text) as Record<string, unknown>
  } catch {
    body = undefined
  }
  // Only the OAuth error code travels on: an error_description can echo the refresh token or a credential, and a
  // 5xx's text can hold internal host names.
  const detail = {
    status: answer.status,
    codes: typeof body?.error === 'string' && /^[a-z_]{1,64}$/.test(body.error) ? [body.error] : [],
    messages: []
  }

  if (answer.status === 429) {
    throw withExtras(new RateLimitedError('Fluent is rate limiting token requests for this account'), {
      upstream: detail, retryAfterSeconds: retryAfterSeconds(answer.headers) ?? 1
    })
  }
  if (answer.status === 400 || answer.status === 401 || answer.status === 403) {
    throw withExtras(new UpstreamAuthFailedError(`Fluent refused the credentials of tenant '${tenant.id}'`), { upstream: detail })
  }
  if (answer.status !== 200 || typeof body?.access_token !== 'string' || body.access_token === '') {
    throw withExtras(new UpstreamUnavailableError(`Fluent's token endpoint answered ${answer.status} without a token`), { upstream: detail })
  }
  const expiresIn = Number(body.expires_in)
  return {
    accessToken: body.access_token,
    // A missing or odd expires_in is treated as one hour: long enough to be useful, short enough to be safe.
    expiresInSeconds: Number.isFinite(expiresIn) && expiresIn > 0 ? expiresIn : 3600,
    ...(typeof body.refresh_token === 'string' && body.refresh_token !== '' ? { refreshToken: body.refresh_token } : {})
  }
}
