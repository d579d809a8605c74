// End-to-end tests of /customers over real HTTP: what the caller gets back and what Fluent (the simulator) received.
import { describe, expect, inject, it } from 'vitest'
import { call, type Answer } from '../helpers/call.js'
import { newApiKey, useGateway } from '../helpers/gateway.js'

describe('/customers', () => {
  const noRetailerKey = newApiKey()

  /** POST /customers, as the tenant of `apiKey` (acme's by default). */
  async function create (body: unknown, apiKey?: string): Promise<Answer> {
    return await call(gw, '/customers', { body, apiKey })
  }

  /** Variables of the GraphQL requests Fluent received for one operation. */
  function sentVariables (operationName: string): any[] {
    return gw.sim.requests.filter((request) => request.operationName === operationName).map((request) => request.variables)
  }

  const gw = useGateway(() => ({
    redisUrl: inject('redisUrl'),
    tenants: [{ id: 'acme', apiKey: newApiKey() }, { id: 'noretailer', apiKey: noRetailerKey, retailerId: null }]
  }))

  describe('POST /customers', () => {
    it('creates a customer with only the required fields, filling Fluent\'s required ones and sending nothing else', async () => {
      const answer = await create({ email: 'jane@example.com', firstName: 'Jane' })

      expect(answer.status).toBe(201)
      expect(answer.headers.get('location')).toBe(`/customers/${answer.body.id as string}`)
      expect(answer.body).toMatchObject({
        username: 'jane@example.com',
        email: 'jane@example.com',
        firstName: 'Jane',
        lastName: null,
        phone: null,
        timezone: 'UTC',
        promotionOptIn: false,
        retailerId: '1',
        attributes: []
      })
      expect(answer.body).not.toHaveProperty('primaryEmail')
      // Optional fields the caller left out are absent, not "" and not null.
      expect(sentVariables('CreateCustomer')).toEqual([{
        input: {
          username: 'jane@example.com',
          primaryEmail: 'jane@example.com',
          firstName: 'Jane',
          timezone: 'UTC',
          promotionOptIn: false,
          retailer: { id: '1' }
        }
      }])
    })

    it('sends every field the caller gives, under Fluent\'s names, custom attributes included', async () => {
      const attributes = [
        { name: 'loyaltyTier', type: 'STRING', value: 'GOLD' },
        { name: 'preferences', type: 'JSON', value: { newsletter: true, channels: ['email'] } }
      ]
      const answer = await create({
        email: 'sam@example.com',
        firstName: 'Sam',
        lastName: 'Lee',
        phone: '+61 400 000 001',
        country: 'Australia',
        timezone: 'Australia/Sydney',
        promotionOptIn: true,
        username: 'sam.lee',
        title: 'Mx',
        department: 'Wholesale',
        retailerId: '1',
        attributes
      })

      expect(answer.status).toBe(201)
      expect(answer.body).toMatchObject({
        username: 'sam.lee',
        email: 'sam@example.com',
        phone: '+61 400 000 001',
        timezone: 'Australia/Sydney',
        promotionOptIn: true,
        title: 'Mx',
        department: 'Wholesale',
        country: 'Australia',
        attributes
      })
      expect(sentVariables('CreateCustomer')).toEqual([{
        input: {
          username: 'sam.lee',
          primaryEmail: 'sam@example.com',
          firstName: 'Sam',
          lastName: 'Lee',
          primaryPhone: '+61 400 000 001',
          country: 'Australia',
          timezone: 'Australia/Sydney',
          promotionOptIn: true,
          title: 'Mx',
          department: 'Wholesale',
          retailer: { id: '1' },
          attributes
        }
      }])
    })

    it('answers 400 and calls nothing when the tenant has no default retailer and the body names none', async () => {
      const answer = await create({ email: 'r@example.com', firstName: 'R' }, noRetailerKey)

      expect(answer.status).toBe(400)
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/)
      expect(answer.body).toMatchObject({ code: 'VALIDATION_FAILED', detail: expect.stringContaining('retailerId') })
      expect(gw.sim.counters).toMatchObject({ graphqlRequests: 0, tokenRequests: 0 })
    })

    it('uses the retailer the body names for a tenant without a default', async () => {
      const answer = await create({ email: 'r@example.com', firstName: 'R', retailerId: '1' }, noRetailerKey)

      expect(answer.status).toBe(201)
      expect(answer.body.retailerId).toBe('1')
      expect(sentVariables('CreateCustomer')).toEqual([{ input: expect.objectContaining({ retailer: { id: '1' } }) }])
    })

    it('answers 201 with a Location that reads the same customer back', async () => {
      const created = await create({ email: 'loc@example.com', firstName: 'Lo' })
      const read = await call(gw, created.headers.get('location') ?? '')

      expect(read.status).toBe(200)
      expect(read.body).toEqual(created.body)
    })
  })

  describe('GET /customers/{id}', () => {
    it('answers the customer in REST names', async () => {
      const created = await create({ email: 'kim@example.com', firstName: 'Kim', phone: '+1 555 0100' })
      const answer = await call(gw, `/customers/${created.body.id as string}`)

      expect(answer.status).toBe(200)
      expect(answer.body).toMatchObject({ id: created.body.id, email: 'kim@example.com', phone: '+1 555 0100', retailerId: '1' })
      expect(sentVariables('CustomerById')).toEqual([{ id: created.body.id }])
    })

    it('answers 404 NOT_FOUND when Fluent has no such customer', async () => {
      const answer = await call(gw, '/customers/99999')

      expect(answer.status).toBe(404)
      expect(answer.headers.get('content-type')).toMatch(/^application\/problem\+json/)
      expect(answer.body).toMatchObject({ status: 404, code: 'NOT_FOUND', instance: '/customers/99999' })
      expect(sentVariables('CustomerById')).toEqual([{ id: '99999' }])
    })
  })

  describe('GET /customers', () => {
    it('pages through every customer with limit, nextCursor and a Link rel="next" that works', async () => {
      for (const name of ['a', 'b', 'c']) {
        expect((await create({ email: `${name}@example.com`, firstName: name })).status).toBe(201)
      }

      const seen: string[] = []
      let path: string | undefined = '/customers?limit=1'
      let pages = 0
      let last: Answer | undefined
      while (path !== undefined) {
        last = await call(gw, path)
        pages++
        expect(last.status).toBe(200)
        expect(last.body.items).toHaveLength(1)
        seen.push(last.body.items[0].email)
        const link = last.headers.get('link')
        if (last.body.nextCursor === null) {
          expect(link).toBeNull()
          path = undefined
        } else {
          const match = /^<([^>]+)>; rel="next"$/.exec(link ?? '')
          expect(match).not.toBeNull()
          const next = new URL(match?.[1] ?? '', gw.url)
          expect(next.searchParams.get('cursor')).toBe(last.body.nextCursor)
          expect(next.searchParams.get('limit')).toBe('1')
          path = `${next.pathname}${next.search}`
        }
      }

      expect(pages).toBe(3)
      expect(seen).toEqual(['a@example.com', 'b@example.com', 'c@example.com'])
      const sent = sentVariables('Customers')
      expect(sent[0]).toEqual({ first: 1 })
      expect(sent[1]).toEqual({ first: 1, after: expect.any(String) })
    })

    it('finds customers by exact email, keeping the email in the next link', async () => {
      await create({ email: 'dup@example.com', firstName: 'One', username: 'dup-1' })
      await create({ email: 'other@example.com', firstName: 'Other' })
      await create({ email: 'dup@example.com', firstName: 'Two', username: 'dup-2' })

      const first = await call(gw, '/customers?email=dup%40example.com&limit=1')
      expect(first.status).toBe(200)
      expect(first.body.items.map((item: { username: string }) => item.username)).toEqual(['dup-1'])
      const next = new URL(/^<([^>]+)>/.exec(first.headers.get('link') ?? '')?.[1] ?? '', gw.url)
      expect(next.searchParams.get('email')).toBe('dup@example.com')

      const second = await call(gw, `${next.pathname}${next.search}`)
      expect(second.body.items.map((item: { username: string }) => item.username)).toEqual(['dup-2'])
      expect(second.body.nextCursor).toBeNull()
      expect(second.headers.get('link')).toBeNull()
      expect(sentVariables('Customers')[0]).toEqual({ primaryEmail: ['dup@example.com'], first: 1 })
    })

    it('asks Fluent for 20 customers when no limit is given, and answers an empty last page', async () => {
      const answer = await call(gw, '/customers?email=nobody%40example.com')

      expect(answer.status).toBe(200)
      expect(answer.body).toEqual({ items: [], nextCursor: null })
      expect(answer.headers.get('link')).toBeNull()
      expect(sentVariables('Customers')).toEqual([{ primaryEmail: ['nobody@example.com'], first: 20 }])
    })
  })
})
