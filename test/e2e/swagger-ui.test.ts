// Swagger UI at /docs in a real browser: authorize with an API key, run GET /me and POST /customers, see their answers.
import { existsSync } from 'node:fs'
import { mkdir } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { chromium, type Browser, type Page } from 'playwright-core'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { startSimulator, type Simulator } from '../../src/simulator/index.js'
import { ACCOUNT, startGateway, type TestGateway } from '../helpers/gateway.js'

const CHROMIUM = '/usr/bin/chromium'
const NO_CHROMIUM = "Debian's chromium is not installed; .ci/run installs it"
const SCREENSHOT = fileURLToPath(new URL('../../test-output/swagger-ui-failure.png', import.meta.url))
/** How long one UI step may take; the whole file stays well under the 30 s test timeout. */
const STEP_MS = 8_000

/** Runs one step of the walk-through; on failure saves a screenshot and names it in the error. */
async function step<T> (page: Page | undefined, name: string, action: () => Promise<T>): Promise<T> {
  try {
    return await action()
  } catch (error) {
    let saved = 'no page to screenshot'
    if (page !== undefined) {
      await mkdir(new URL('../../test-output/', import.meta.url), { recursive: true })
      saved = await page.screenshot({ path: SCREENSHOT, fullPage: true }).then(() => `screenshot: ${SCREENSHOT}`, (shot: Error) => `no screenshot (${shot.message})`)
    }
    throw new Error(`Swagger UI: ${name} failed (${saved}): ${(error as Error).message}`, { cause: error })
  }
}

/** Expands an operation, switches it to "Try it out" when it is not already, and returns its block. */
async function openOperation (page: Page, tag: string, operationId: string) {
  const block = page.locator(`#operations-${tag}-${operationId}`)
  await block.locator('.opblock-summary').first().click()
  // uiConfig.tryItOutEnabled opens operations ready to run; otherwise the user clicks "Try it out".
  const tryOut = block.locator('button.try-out__btn:not(.cancel):not(.reset)')
  await block.locator('button.try-out__btn').first().waitFor({ timeout: STEP_MS })
  if (await tryOut.isVisible()) await tryOut.click()
  return block
}

/** Clicks Execute and waits for the live answer: its status and its body text; then folds the operation to keep the page light. */
async function execute (block: ReturnType<Page['locator']>): Promise<{ status: string, body: string }> {
  await block.locator('button.execute').click()
  const live = block.locator('.responses-wrapper .live-responses-table .response').first()
  const status = (await live.locator('.response-col_status').textContent({ timeout: STEP_MS }))?.trim() ?? ''
  const body = (await live.locator('.response-col_description pre').first().textContent({ timeout: STEP_MS })) ?? ''
  await block.locator('.opblock-summary').first().click()
  return { status, body }
}

describe('Swagger UI at /docs', () => {
  let gw: TestGateway | undefined
  let browser: Browser | undefined
  let page: Page | undefined
  let sim: Simulator | undefined
  /** Requests the page tried to send anywhere but the gateway: /docs must work offline. */
  const elsewhere: string[] = []

  beforeAll(async () => {
    if (!existsSync(CHROMIUM)) return
    // The demo seed, so that the order, stock and location examples find what they name.
    sim = await startSimulator({ accounts: [ACCOUNT], demoData: true })
    gw = await startGateway({ redisUrl: inject('redisUrl'), sim })
    const origin = gw.url
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
        '--disable-background-networking', '--disable-component-update', '--disable-sync']
    })
    page = await browser.newPage()
    page.setDefaultTimeout(STEP_MS)
    await page.route((url) => url.origin !== origin, async (route) => {
      elsewhere.push(route.request().url())
      await route.abort()
    })
    const opened = page
    await step(opened, 'opening /docs', async () => {
      await opened.goto(`${origin}/docs`, { timeout: STEP_MS })
      await opened.locator('#operations-account-getMe').waitFor({ timeout: STEP_MS })
    })
    await step(opened, 'authorizing with the API key', async () => {
      await opened.locator('button.btn.authorize').first().click()
      await opened.locator('.modal-ux #auth-bearer-value').fill(gw?.apiKey ?? '')
      await opened.locator('.modal-ux .auth-container').filter({ hasText: 'bearerAuth' }).locator('button.authorize').click()
      await opened.locator('.modal-ux button.btn-done').first().click()
      await opened.locator('.modal-ux').waitFor({ state: 'detached', timeout: STEP_MS })
    })
  })

  afterAll(async () => {
    await browser?.close()
    await gw?.close()
    await sim?.close()
  })

  it('runs GET /me with the key typed into Authorize and shows the Fluent user', async (context) => {
    context.skip(page === undefined, NO_CHROMIUM)
    const open = page as Page
    const { status, body } = await step(open, 'running GET /me', async () => await execute(await openOperation(open, 'account', 'getMe')))

    expect(status, `GET /me status (screenshot on failure: ${SCREENSHOT})`).toBe('200')
    expect(JSON.parse(body)).toMatchObject({ username: ACCOUNT.username })
    expect(elsewhere, 'requests that left the gateway').toEqual([])
  })

  it('creates a customer from an edited example body and shows 201 with the email', async (context) => {
    context.skip(page === undefined, NO_CHROMIUM)
    const open = page as Page
    const email = `swagger-ui-${Date.now()}@example.com`
    const { status, body } = await step(open, 'running POST /customers', async () => {
      const block = await openOperation(open, 'customers', 'createCustomer')
      const editor = block.locator('textarea.body-param__text')
      expect(await editor.inputValue(), 'the example body Swagger UI offers').toContain('jane.doe@example.com')
      await editor.fill(JSON.stringify({ email, firstName: 'Swagger', lastName: 'User' }, null, 2))
      return await execute(block)
    })

    expect(status, `POST /customers status (screenshot on failure: ${SCREENSHOT})`).toBe('201')
    expect(JSON.parse(body)).toMatchObject({ email, firstName: 'Swagger', timezone: 'UTC' })
    expect(gw?.sim.requests.filter((request) => request.operationName === 'CreateCustomer')).toHaveLength(1)
    expect(elsewhere, 'requests that left the gateway').toEqual([])
  })

  // A newcomer's first move is Execute on what the page offers: those examples must work as they are.
  it.for([
    { tag: 'products', operationId: 'createProduct', expected: '201' },
    { tag: 'graphql', operationId: 'runGraphql', expected: '200' },
    { tag: 'customers', operationId: 'listCustomers', expected: '200' },
    { tag: 'orders', operationId: 'createOrder', expected: '201' },
    { tag: 'orders', operationId: 'getOrder', expected: '200' },
    { tag: 'orders', operationId: 'listOrders', expected: '200' },
    { tag: 'fulfilments', operationId: 'listFulfilments', expected: '200' },
    { tag: 'fulfilments', operationId: 'getFulfilment', expected: '200' },
    { tag: 'locations', operationId: 'getLocation', expected: '200' },
    { tag: 'stock', operationId: 'listStock', expected: '200' },
    { tag: 'stock', operationId: 'getAvailability', expected: '200' }
  ])('runs the $operationId example exactly as offered and gets $expected', async ({ tag, operationId, expected }, context) => {
    context.skip(page === undefined, NO_CHROMIUM)
    const open = page as Page
    const { status, body } = await step(open, `running the ${operationId} example`, async () => await execute(await openOperation(open, tag, operationId)))

    expect(status, `${operationId} status, body ${body} (screenshot on failure: ${SCREENSHOT})`).toBe(expected)
  })
})
