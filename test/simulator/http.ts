// Small HTTP helpers for the simulator tests: fetch a token, post a GraphQL document, call the admin routes.
import type { Simulator } from '../../src/simulator/index.js'

export const demoForm = {
  grant_type: 'password',
  username: 'demo_integration',
  password: 'demo-password',
  client_id: 'DEMO',
  client_secret: 'demo-secret',
  scope: 'api'
}

export interface JsonResponse<T = Record<string, any>> {
  status: number
  headers: Headers
  body: T
}

async function asJson<T> (response: Response): Promise<JsonResponse<T>> {
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: (text === '' ? undefined : JSON.parse(text)) as T }
}

export async function postToken (sim: Simulator, form: Record<string, string>, query = ''): Promise<JsonResponse> {
  const response = await fetch(`${sim.url}/oauth/token${query}`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams(form).toString()
  })
  return await asJson(response)
}

export async function getToken (sim: Simulator): Promise<string> {
  const answer = await postToken(sim, demoForm)
  if (answer.status !== 200) throw new Error(`token request failed with ${answer.status}`)
  return answer.body.access_token as string
}

export async function postGraphql (
  sim: Simulator,
  token: string | undefined,
  body: unknown,
  headers: Record<string, string> = {}
): Promise<JsonResponse> {
  const response = await fetch(`${sim.url}/graphql`, {
    method: 'POST',
    headers: {
      'content-type': 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      ...headers
    },
    body: typeof body === 'string' ? body : JSON.stringify(body)
  })
  return await asJson(response)
}

export async function graphql (sim: Simulator, token: string, query: string, variables?: Record<string, unknown>): Promise<JsonResponse> {
  return await postGraphql(sim, token, { query, variables })
}

export async function admin (sim: Simulator, method: string, path: string, body?: unknown): Promise<JsonResponse> {
  const response = await fetch(`${sim.url}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body)
  })
  return await asJson(response)
}

export const createCustomerMutation = `
  mutation CreateCustomer($input: CreateCustomerInput) {
    createCustomer(input: $input) {
      id ref status username primaryEmail firstName lastName timezone promotionOptIn createdOn
      attributes { name type value }
      retailer { id ref }
    }
  }`

export function customerInput (username: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { username, primaryEmail: username, timezone: 'UTC', promotionOptIn: false, retailer: { id: '1' }, ...extra }
}
