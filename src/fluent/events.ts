// Fluent's Event API: one event, sent synchronously (Fluent runs the workflow first) or asynchronously.
import type { Caller } from './view.js'

/** An event as Fluent's Event API takes it; optional keys are absent, never empty strings. */
export interface FluentEvent {
  name: string
  retailerId: string
  entityType: string
  entityRef?: string
  entityId?: string
  entitySubtype?: string
  rootEntityType?: string
  rootEntityRef?: string
  rootEntityId?: string
  attributes?: Record<string, unknown>
}

/** The sync answer: the event, the entity it ran on and how it ended. */
export interface SyncEventAnswer {
  eventId: string
  entityId?: string | null
  eventStatus?: string | null
}

export const events = {
  /** Sync answers Fluent's {eventId, entityId, eventStatus}; async its id alone. Never retried once sent. */
  async send (fluent: Caller, event: FluentEvent, mode: 'sync' | 'async'): Promise<SyncEventAnswer> {
    const answer = await fluent.rest<{ eventId?: string, id?: string, entityId?: string | null, eventStatus?: string | null } | undefined>({
      method: 'POST', path: `/api/v4.1/event/${mode}`, body: event, operation: mode === 'sync' ? 'EventSync' : 'EventAsync'
    })
    // The async answer names the new event `id` where the sync one says `eventId`.
    return { eventId: answer?.eventId ?? answer?.id ?? '', entityId: answer?.entityId ?? null, eventStatus: answer?.eventStatus ?? null }
  }
}
