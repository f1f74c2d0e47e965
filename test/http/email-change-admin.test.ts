import { describe, expect, it } from 'vitest'
import { ADMIN, emailChangeSuite } from '../helpers/email-change.js'
import { bearer, login, registerUser, uniqueEmail } from '../helpers/factories.js'
import { testTargets } from '../helpers/test-targets.js'

const AUTH = '/api/v1/auth'

describe.each(testTargets())('administrators changing an e-mail address on $name', (target) => {
  const s = emailChangeSuite(target)
  const { lastMail, tokenOf, accountOf, auditOf, expectInvalidLink, adminAuth } = s

  describe('admin PATCH /api/v1/admin/users/{id} with email', () => {
    const patch = async (id: string, payload: object, headers?: { authorization: string }) =>
      s.t().inject({
        method: 'PATCH',
        url: `/api/v1/admin/users/${id}`,
        headers: headers ?? (await adminAuth()),
        payload,
      })
    const adminId = async () =>
      (await s.t().inject({ method: 'GET', url: '/api/v1/users/me', headers: await adminAuth() })).json()
        .id as string

    it('changes the address, unverified unless email_verified: true is sent, and audits it as the admin’s', async () => {
      const user = await registerUser(s.t())
      const first = uniqueEmail('adm1')
      const response = await patch(user.id, { email: first.toUpperCase() })
      expect(response.statusCode).toBe(200)
      expect(response.json()).toMatchObject({ email: first, email_verified: false })
      const second = uniqueEmail('adm2')
      expect((await patch(user.id, { email: second, email_verified: true })).json()).toMatchObject({
        email: second,
        email_verified: true,
      })
      expect(await auditOf(user.id, 'user.updated')).toContainEqual(
        expect.objectContaining({
          actor_id: await adminId(),
          metadata: { fields: ['email'], email: { from: user.email, to: first } },
        }),
      )
      expect((await login(s.t(), { email: second, password: user.password })).access_token).toBeTruthy()
    })

    it('answers 409 EMAIL_TAKEN for an address another account holds', async () => {
      const [user, other] = [await registerUser(s.t()), await registerUser(s.t())]
      const response = await patch(user.id, { email: other.email })
      expect(response.statusCode).toBe(409)
      expect(response.json()).toMatchObject({ code: 'EMAIL_TAKEN' })
      expect((await accountOf(user.id)).email).toBe(user.email)
      expect((await patch(user.id, { email: 'nope' })).statusCode).toBe(422)
    })

    it('kills the verification link sent to the old address', async () => {
      const user = await registerUser(s.t())
      const verifyToken = tokenOf(await lastMail(user.email, 'Confirm your e-mail address'))
      await patch(user.id, { email: uniqueEmail('kill') })
      expectInvalidLink(
        await s.t().inject({ method: 'POST', url: `${AUTH}/email/verify`, payload: { token: verifyToken } }),
      )
    })

    it('refuses a delegated operator an administrator’s address (403 TARGET_OUTRANKS_ACTOR)', async () => {
      const role = `support-${Date.now()}`
      await s.t().inject({
        method: 'POST',
        url: '/api/v1/admin/roles',
        headers: await adminAuth(),
        payload: { name: role, permissions: ['users:read', 'users:write'] },
      })
      const operator = await registerUser(s.t())
      await s.t().inject({
        method: 'PUT',
        url: `/api/v1/admin/users/${operator.id}/roles`,
        headers: await adminAuth(),
        payload: { roles: ['user', role] },
      })
      const operatorAuth = bearer((await login(s.t(), operator)).access_token)
      const admin = await adminId()
      const refused = await patch(admin, { email: uniqueEmail('steal') }, operatorAuth)
      expect(refused.statusCode).toBe(403)
      expect(refused.json()).toMatchObject({ code: 'TARGET_OUTRANKS_ACTOR' })
      expect((await accountOf(admin)).email).toBe(ADMIN.email)
      const plain = await registerUser(s.t())
      expect((await patch(plain.id, { email: uniqueEmail('ok') }, operatorAuth)).statusCode).toBe(200)
    })
  })
})
