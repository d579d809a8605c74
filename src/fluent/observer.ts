// Hooks through which the Fluent client reports what it did (metrics attach here); every hook is optional.
export type TokenCacheLayer = 'l1' | 'l2' | 'miss'
export type TokenFetchOutcome = 'ok' | 'auth_failed' | 'error'

export interface FluentObserver {
  /** One upstream GraphQL call finished: the operation name, how it ended (ok or an error code) and its duration. */
  upstream?: (operation: string, outcome: string, ms: number) => void
  /** A token request to Fluent finished. */
  tokenFetch?: (outcome: TokenFetchOutcome) => void
  /** Where a token lookup was answered from. */
  tokenCache?: (layer: TokenCacheLayer) => void
}
