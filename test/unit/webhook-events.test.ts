import { describe, expect, it } from 'vitest'
import {
  AUDIT_EVENT_TYPES,
  EVENT_TYPES,
  eventOf,
  publicFields,
  subscribes,
} from '../../src/events/catalogue.js'
import { isDisallowedAddress } from '../../src/events/webhook-target.js'
import { AUDIT_ACTIONS } from '../../src/services/audit.service.js'

describe('event catalogue', () => {
  it('gives every audited action an event type', () => {
    for (const action of AUDIT_ACTIONS) expect(EVENT_TYPES).toContain(AUDIT_EVENT_TYPES[action])
    expect(AUDIT_EVENT_TYPES['user.registered']).toBe('user.created')
    expect(AUDIT_EVENT_TYPES['password.reset']).toBe('user.password_changed')
    expect(AUDIT_EVENT_TYPES['email.changed']).toBe('user.email_changed')
    expect(EVENT_TYPES).toContain('webhook.test')
  })

  it('builds {type, timestamp, data} with ids and the non-secret fields only', () => {
    const event = eventOf({
      id: '0192f0c4-0000-7000-8000-000000000001',
      at: new Date('2030-01-01T00:00:00Z'),
      action: 'user.updated',
      actor_id: 'a',
      target_type: 'user',
      target_id: 'u',
      metadata: {
        fields: ['full_name'],
        password: 'hunter2',
        new_password_hash: '$argon2id$v=19$...',
        refresh_token: 'abc',
        client_secret: 'def',
        totp_secret: 'ghi',
        code: '123456',
        nested: { recovery_code: 'x', kept: 1, leaked: '$argon2id$...' },
        id: 'spoofed',
      },
    })
    expect(event).toEqual({
      type: 'user.updated',
      timestamp: '2030-01-01T00:00:00.000Z',
      data: {
        id: '0192f0c4-0000-7000-8000-000000000001',
        actor_id: 'a',
        target_type: 'user',
        target_id: 'u',
        fields: ['full_name'],
        nested: { kept: 1 },
      },
    })
    expect(publicFields({ sessions_ended: 2, email: 'a@example.com' })).toEqual({
      sessions_ended: 2,
      email: 'a@example.com',
    })
  })

  it('matches subscriptions by type or *', () => {
    expect(subscribes(['*'], 'user.created')).toBe(true)
    expect(subscribes(['user.created'], 'user.created')).toBe(true)
    expect(subscribes(['user.deleted'], 'user.created')).toBe(false)
  })
})

describe('webhook target addresses', () => {
  it.each([
    '127.0.0.1',
    '127.8.9.10',
    '10.0.0.1',
    '172.31.255.255',
    '192.168.0.1',
    '169.254.169.254',
    '100.64.0.1',
    '0.0.0.0',
    '224.0.0.251',
    '255.255.255.255',
    '::',
    '::1',
    'fc00::1',
    'fd12:3456::1',
    'fe80::1',
    'ff02::1',
    '::ffff:127.0.0.1',
    '::ffff:7f00:1',
    '::ffff:a9fe:a9fe', // 169.254.169.254, mapped, hex form
    '::127.0.0.1', // deprecated IPv4-compatible
    '64:ff9b::10.0.0.1', // NAT64 of a private address
    '64:ff9b::a9fe:a9fe', // NAT64 of the metadata service, hex form
    '64:ff9b:1::8.8.8.8', // local-use NAT64
    '2002:7f00:1::1', // 6to4 of 127.0.0.1
    '2002:c0a8:101::', // 6to4 of 192.168.1.1
    '2001:0:4136:e378:8000:63bf:3fff:fdd2', // Teredo
    '2001:db8::1', // documentation
    '[::1]',
    'fe80::1%eth0',
    'not-an-ip',
  ])('refuses %s', (address) => expect(isDisallowedAddress(address)).toBe(true))

  it.each([
    '93.184.215.14',
    '8.8.8.8',
    '172.32.0.1',
    '100.128.0.1',
    '2606:4700::1111',
    '::ffff:8.8.8.8',
    '64:ff9b::8.8.8.8', // NAT64 of a public address
    '2002:808:808::1', // 6to4 of 8.8.8.8
    '2a00:1450:4001:80b::200e',
    '2001:4860:4860::8888', // outside Teredo's 2001::/32
  ])('allows %s', (address) => expect(isDisallowedAddress(address)).toBe(false))
})
