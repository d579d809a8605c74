// OAuth side of the Fluent simulator: the password and refresh_token grants, and the tokens they issue.
import { randomBytes } from 'node:crypto'
import type { Counters, Faults, SimulatorAccount } from './types.js'

export interface TokenAnswer {
  status: number
  body: Record<string, unknown>
}

export type TokenCheck =
  | { state: 'valid', account: SimulatorAccount }
  | { state: 'expired', account: SimulatorAccount }
  | { state: 'unknown' }

interface IssuedToken {
  account: SimulatorAccount
  expiresAt: number
}

/** Parameters that carry credentials; Fluent callers must send them in the body, never the URL. */
export const CREDENTIAL_PARAMS = ['username', 'password', 'client_id', 'client_secret', 'refresh_token'] as const

const badCredentials: TokenAnswer = {
  status: 400,
  body: { error: 'invalid_grant', error_description: 'Bad credentials' }
}

function opaqueToken (): string {
  return randomBytes(32).toString('hex')
}

export class TokenRegistry {
  private readonly accessTokens = new Map<string, IssuedToken>()
  private readonly refreshTokens = new Map<string, SimulatorAccount>()
  private readonly accounts: SimulatorAccount[]

  constructor (accounts: SimulatorAccount[]) {
    this.accounts = accounts
  }

  /** Answers one /oauth/token request from its form parameters. */
  grant (form: URLSearchParams, faults: Faults): TokenAnswer {
    if (faults.badCredentials) return badCredentials
    const grantType = form.get('grant_type')
    const scope = form.get('scope')
    if (scope !== null && scope !== 'api') {
      return { status: 400, body: { error: 'invalid_scope', error_description: `Invalid scope: ${scope}` } }
    }
    if (grantType === 'password') {
      const account = this.accounts.find((candidate) =>
        candidate.clientId === form.get('client_id') &&
        candidate.clientSecret === form.get('client_secret') &&
        candidate.username === form.get('username') &&
        candidate.password === form.get('password'))
      return account === undefined ? badCredentials : this.issue(account, faults)
    }
    if (grantType === 'refresh_token') {
      const refreshToken = form.get('refresh_token') ?? ''
      const account = this.refreshTokens.get(refreshToken)
      if (account === undefined ||
        account.clientId !== form.get('client_id') ||
        account.clientSecret !== form.get('client_secret')) {
        return badCredentials
      }
      // Single use: the refresh token is spent whether or not the caller keeps the answer.
      this.refreshTokens.delete(refreshToken)
      return this.issue(account, faults)
    }
    return {
      status: 400,
      body: { error: 'unsupported_grant_type', error_description: `Unsupported grant type: ${grantType ?? ''}` }
    }
  }

  /** The account a refresh token belongs to, without spending it (for request records). */
  refreshTokenOwner (refreshToken: string): SimulatorAccount | undefined {
    return this.refreshTokens.get(refreshToken)
  }

  /** The bearer token of an Authorization header, checked; a refusal is counted (expired ones also on their own). */
  authorize (header: string | undefined, counters: Pick<Counters, 'unauthorizedRequests' | 'expiredTokenRequests'>): TokenCheck {
    const bearer = /^Bearer\s+(\S+)\s*$/i.exec(header ?? '')
    const check = bearer === null ? { state: 'unknown' as const } : this.check(bearer[1] ?? '')
    if (check.state !== 'valid') {
      counters.unauthorizedRequests++
      if (check.state === 'expired') counters.expiredTokenRequests++
    }
    return check
  }

  check (accessToken: string, now = Date.now()): TokenCheck {
    const issued = this.accessTokens.get(accessToken)
    if (issued === undefined) return { state: 'unknown' }
    return { state: now >= issued.expiresAt ? 'expired' : 'valid', account: issued.account }
  }

  /** Every access token issued so far stops working; refresh tokens stay usable. */
  revokeAccessTokens (): number {
    const count = this.accessTokens.size
    this.accessTokens.clear()
    return count
  }

  private issue (account: SimulatorAccount, faults: Faults): TokenAnswer {
    const accessToken = opaqueToken()
    this.accessTokens.set(accessToken, { account, expiresAt: Date.now() + faults.tokenTtlSeconds * 1000 })
    const body: Record<string, unknown> = {
      access_token: accessToken,
      token_type: 'bearer',
      expires_in: faults.tokenTtlSeconds,
      scope: 'api'
    }
    if (faults.issueRefreshToken) {
      const refreshToken = opaqueToken()
      this.refreshTokens.set(refreshToken, account)
      body.refresh_token = refreshToken
    }
    if (account.retailerId !== undefined) body.Retailer_id = account.retailerId
    body.FirstName = 'Demo'
    return { status: 200, body }
  }
}
