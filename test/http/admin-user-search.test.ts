import { randomBytes } from 'node:crypto'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { buildTestApp, type TestApp } from '../helpers/build-test-app.js'
import { bearer, login, registerUser } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

const ADMIN = { email: 'search-admin@example.com', password: 'admin password 1234' }
const tag = () => randomBytes(4).toString('hex')

interface Listed {
  id: string
  email: string
  full_name: string | null
}

/** GET /admin/users?q= matches a case-insensitive substring of the e-mail or the full name. */
describe.each(testTargets())('admin user search on $name', (target) => {
  let t: TestApp
  let admin: { authorization: string }

  const search = async (query: Record<string, string>) => {
    const response = await t.inject({ method: 'GET', url: '/api/v1/admin/users', query, headers: admin })
    expect(response.statusCode).toBe(200)
    return response.json() as { items: Listed[]; next_cursor: string | null }
  }
  const ids = async (q: string) => (await search({ q, limit: '100' })).items.map((user) => user.id).sort()

  beforeAll(async () => {
    t = await buildTestApp({ target, env: { ADMIN_EMAIL: ADMIN.email, ADMIN_PASSWORD: ADMIN.password } })
    admin = bearer((await login(t, ADMIN)).access_token)
  })
  afterAll(async () => t?.close())

  it('finds users by a fragment of the e-mail domain, in any case', async () => {
    const domain = `north-${tag()}.example`
    const ann = await registerUser(t, { email: `ann@${domain}` })
    const bob = await registerUser(t, { email: `bob.smith@${domain}` })
    await registerUser(t, { email: `ann@south-${tag()}.example` })
    expect(await ids(domain.slice(0, 12).toUpperCase())).toEqual([ann.id, bob.id].sort())
  })

  it('finds users by a part in the middle of the e-mail', async () => {
    const middle = tag()
    const user = await registerUser(t, { email: `first.${middle}.last@example.com` })
    expect(await ids(middle.slice(2, 7))).toEqual([user.id])
  })

  it('finds users by their surname, in any case', async () => {
    const surname = `Hopper${tag()}`
    const grace = await registerUser(t, { full_name: `Grace Brewster ${surname}` })
    const other = await registerUser(t, { full_name: `Edward ${surname}` })
    await registerUser(t, { full_name: `Grace Brewster Murray${tag()}` })
    expect(await ids(surname.toLowerCase())).toEqual([grace.id, other.id].sort())
    expect(await ids(`BREWSTER ${surname.toUpperCase()}`)).toEqual([grace.id])
  })

  it('matches %, _ and \\ in q literally', async () => {
    const mark = tag()
    const literal = await registerUser(t, { full_name: `Promo${mark} 50%_off` })
    await registerUser(t, { full_name: `Promo${mark} 50ab_off` })
    await registerUser(t, { full_name: `Promo${mark} 50%xoff` })
    const path = await registerUser(t, { full_name: `Promo${mark} C:\\dir` })
    await registerUser(t, { full_name: `Promo${mark} C:dir` })
    expect(await ids(`${mark} 50%_off`)).toEqual([literal.id])
    expect(await ids(`${mark} C:\\d`)).toEqual([path.id])
    const percent = (await search({ q: '%', limit: '100' })).items
    expect(percent.map((user) => user.id)).toContain(literal.id)
    for (const user of percent) expect(`${user.email} ${user.full_name}`).toContain('%')
    const underscore = (await search({ q: '_', limit: '100' })).items
    for (const user of underscore) expect(`${user.email} ${user.full_name}`).toContain('_')
  })

  it('pages newest first with no duplicate and no gap while matching users register between pages', async () => {
    const mark = tag()
    const original: string[] = []
    for (let n = 0; n < 12; n++) {
      // Half match in the middle of the e-mail, half in the full name.
      const user =
        n % 2 === 0
          ? await registerUser(t, { email: `u${n}.${mark}mid@example.com` })
          : await registerUser(t, { full_name: `Member ${n} ${mark}MID` })
      original.push(user.id)
    }
    await registerUser(t, { email: `other-${tag()}@example.com` })
    const seen: string[] = []
    let cursor: string | null = null
    let pages = 0
    do {
      const page = await search({ q: `${mark.toUpperCase()}mid`, limit: '5', ...(cursor ? { cursor } : {}) })
      seen.push(...page.items.map((user) => user.id))
      cursor = page.next_cursor
      pages++
      await registerUser(t, { email: `late${pages}.${mark}mid@example.com` })
    } while (cursor && pages < 10)
    expect(pages).toBe(3)
    expect(seen).toEqual([...original].reverse())
  })
})
