import type { MailMessage } from './mailer.js'

/** The languages e-mails are written in; an account without one gets English. */
export type MailLocale = 'en' | 'es'

export function mailLocale(value: string | null | undefined): MailLocale {
  return value === 'es' ? 'es' : 'en'
}

/** A security change the account's owner is told about. */
export type SecurityNoticeKind =
  | 'mfa_enabled'
  | 'mfa_disabled'
  | 'recovery_code_used'
  | 'passkey_added'
  | 'passkey_removed'

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  )

const fill = (message: string, params: Record<string, string | number>) =>
  message.replace(/\{([a-z_]+)\}/g, (place, name: string) => (name in params ? String(params[name]) : place))

const MESSAGES = {
  en: {
    signature: '— {brand}',
    reset_subject: 'Reset your password',
    reset_body_1: 'Someone asked to reset the password of your account. If it was you, use the link below.',
    reset_body_2:
      'The link works once and expires in {minutes} minutes. If it was not you, ignore this e-mail: your password stays as it is.',
    reset_link: 'Choose a new password',
    changed_subject: 'Your password was changed',
    changed_body_1: 'The password of your account was just changed, and every session was signed out.',
    changed_body_2: 'If you did not do this, reset your password now and contact your administrator.',
    verify_subject: 'Confirm your e-mail address',
    verify_body: 'Please confirm that this is your e-mail address. The link expires in {hours} hours.',
    verify_link: 'Confirm my address',
    notice_footer: 'If this was not you, reset your password now and contact your administrator.',
    mfa_enabled_subject: 'Two-factor authentication is on',
    mfa_enabled_body: 'Two-factor authentication was just enabled on your account.',
    mfa_disabled_subject: 'Two-factor authentication is off',
    mfa_disabled_body: 'Two-factor authentication was just disabled on your account.',
    recovery_code_used_subject: 'A recovery code was used',
    recovery_code_used_body: 'One of your recovery codes was just used to sign in.',
    passkey_added_subject: 'A passkey was added to your account',
    passkey_added_body: 'A new passkey ("{name}") can now sign in to your account.',
    passkey_removed_subject: 'A passkey was removed from your account',
    passkey_removed_body: 'The passkey "{name}" can no longer sign in to your account.',
    change_confirm_subject: 'Confirm your new e-mail address',
    change_confirm_body:
      'Someone asked to make this the e-mail address of their account. If it was you, confirm it with the link below; it expires in {hours} hours. If it was not you, ignore this e-mail: nothing changes.',
    change_confirm_link: 'Confirm my new address',
    change_notice_subject: 'A change of your e-mail address was requested',
    change_notice_body_1:
      'Someone asked to change the e-mail address of your account to {email}. It changes only when the link sent to that address is used.',
    change_notice_body_2:
      'If this was not you, use the link below within 7 days: it keeps (or restores) this address and signs out every session. Then reset your password.',
    change_notice_link: 'This was not me: undo the change',
    webhook_disabled_subject: 'A webhook endpoint was disabled',
    webhook_disabled_body_1:
      'Deliveries to the webhook endpoint {url} failed continuously for 3 days, so it was disabled.',
    webhook_disabled_body_2:
      'Fix the receiver, then enable the endpoint again in the admin console; events in the meantime were not sent to it.',
  },
  es: {
    signature: '— {brand}',
    reset_subject: 'Restablece tu contraseña',
    reset_body_1:
      'Alguien ha pedido restablecer la contraseña de tu cuenta. Si has sido tú, usa el enlace de abajo.',
    reset_body_2:
      'El enlace funciona una sola vez y caduca en {minutes} minutos. Si no has sido tú, ignora este correo: tu contraseña no cambia.',
    reset_link: 'Elegir una contraseña nueva',
    changed_subject: 'Se ha cambiado tu contraseña',
    changed_body_1: 'Se acaba de cambiar la contraseña de tu cuenta y se han cerrado todas las sesiones.',
    changed_body_2: 'Si no has sido tú, restablece tu contraseña ahora y avisa a tu administrador.',
    verify_subject: 'Confirma tu correo electrónico',
    verify_body: 'Confirma que esta es tu dirección de correo. El enlace caduca en {hours} horas.',
    verify_link: 'Confirmar mi dirección',
    notice_footer: 'Si no has sido tú, restablece tu contraseña ahora y avisa a tu administrador.',
    mfa_enabled_subject: 'La verificación en dos pasos está activada',
    mfa_enabled_body: 'Se acaba de activar la verificación en dos pasos en tu cuenta.',
    mfa_disabled_subject: 'La verificación en dos pasos está desactivada',
    mfa_disabled_body: 'Se acaba de desactivar la verificación en dos pasos en tu cuenta.',
    recovery_code_used_subject: 'Se ha usado un código de recuperación',
    recovery_code_used_body: 'Se acaba de usar uno de tus códigos de recuperación para iniciar sesión.',
    passkey_added_subject: 'Se ha añadido una llave de acceso a tu cuenta',
    passkey_added_body: 'Una nueva llave de acceso («{name}») ya puede iniciar sesión en tu cuenta.',
    passkey_removed_subject: 'Se ha quitado una llave de acceso de tu cuenta',
    passkey_removed_body: 'La llave de acceso «{name}» ya no puede iniciar sesión en tu cuenta.',
    change_confirm_subject: 'Confirma tu nueva dirección de correo',
    change_confirm_body:
      'Alguien ha pedido que esta sea la dirección de correo de su cuenta. Si has sido tú, confírmalo con el enlace de abajo; caduca en {hours} horas. Si no has sido tú, ignora este correo: no cambia nada.',
    change_confirm_link: 'Confirmar mi nueva dirección',
    change_notice_subject: 'Se ha pedido cambiar tu dirección de correo',
    change_notice_body_1:
      'Alguien ha pedido cambiar la dirección de correo de tu cuenta a {email}. Solo cambia cuando se use el enlace enviado a esa dirección.',
    change_notice_body_2:
      'Si no has sido tú, usa el enlace de abajo en los próximos 7 días: mantiene (o restablece) esta dirección y cierra todas las sesiones. Después, restablece tu contraseña.',
    change_notice_link: 'No he sido yo: deshacer el cambio',
    webhook_disabled_subject: 'Se ha desactivado un webhook',
    webhook_disabled_body_1:
      'Las entregas al webhook {url} han fallado sin interrupción durante 3 días, así que se ha desactivado.',
    webhook_disabled_body_2:
      'Arregla el receptor y vuelve a activarlo en la consola de administración; los eventos de mientras no se le han enviado.',
  },
} as const satisfies Record<MailLocale, Record<string, string>>

type MessageKey = keyof (typeof MESSAGES)['en']

/**
 * The e-mails Kitsune sends, in the account's language (English or Spanish); links are built from
 * PUBLIC_URL and, for Spanish, carry ui_locales=es so the page they open speaks it too.
 */
export function createTemplates(publicUrl: string, brand = 'Kitsune') {
  const compose = (
    locale: MailLocale,
    to: string,
    subject: string,
    paragraphs: string[],
    link?: { url: string; label: string },
  ): MailMessage => {
    const signature = fill(MESSAGES[locale].signature, { brand })
    const text = [...paragraphs, ...(link ? [`${link.label}: ${link.url}`] : []), signature].join('\n\n')
    const html = [
      `<!doctype html><html lang="${locale}"><body style="font-family:sans-serif;line-height:1.5">`,
      ...paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`),
      ...(link ? [`<p><a href="${escapeHtml(link.url)}">${escapeHtml(link.label)}</a></p>`] : []),
      `<p>${escapeHtml(signature)}</p></body></html>`,
    ].join('')
    return { to, subject, text, html }
  }
  const t = (locale: MailLocale, key: MessageKey, params: Record<string, string | number> = {}) =>
    fill(MESSAGES[locale][key], params)
  const link = (path: string, token: string, locale: MailLocale) =>
    `${publicUrl}${path}?token=${encodeURIComponent(token)}${locale === 'en' ? '' : `&ui_locales=${locale}`}`

  return {
    passwordReset(to: string, token: string, ttlMinutes: number, locale: MailLocale = 'en'): MailMessage {
      return compose(
        locale,
        to,
        t(locale, 'reset_subject'),
        [t(locale, 'reset_body_1'), t(locale, 'reset_body_2', { minutes: ttlMinutes })],
        { url: link('/ui/reset-password', token, locale), label: t(locale, 'reset_link') },
      )
    },
    passwordChanged(to: string, locale: MailLocale = 'en'): MailMessage {
      return compose(locale, to, t(locale, 'changed_subject'), [
        t(locale, 'changed_body_1'),
        t(locale, 'changed_body_2'),
      ])
    },
    verifyEmail(to: string, token: string, ttlHours: number, locale: MailLocale = 'en'): MailMessage {
      return compose(
        locale,
        to,
        t(locale, 'verify_subject'),
        [t(locale, 'verify_body', { hours: ttlHours })],
        {
          url: link('/ui/verify-email', token, locale),
          label: t(locale, 'verify_link'),
        },
      )
    },
    /** To the new address: the link that makes it the account's address. */
    emailChangeConfirm(to: string, token: string, ttlHours: number, locale: MailLocale = 'en'): MailMessage {
      return compose(
        locale,
        to,
        t(locale, 'change_confirm_subject'),
        [t(locale, 'change_confirm_body', { hours: ttlHours })],
        { url: link('/ui/email-change', token, locale), label: t(locale, 'change_confirm_link') },
      )
    },
    /** To the old address: what was asked for, and the link that undoes it. */
    emailChangeNotice(
      to: string,
      newEmail: string,
      undoToken: string,
      locale: MailLocale = 'en',
    ): MailMessage {
      return compose(
        locale,
        to,
        t(locale, 'change_notice_subject'),
        [t(locale, 'change_notice_body_1', { email: newEmail }), t(locale, 'change_notice_body_2')],
        { url: link('/ui/email-change/undo', undoToken, locale), label: t(locale, 'change_notice_link') },
      )
    },
    /** To each administrator: an endpoint that kept failing was disabled. */
    webhookDisabled(to: string, url: string, locale: MailLocale = 'en'): MailMessage {
      return compose(locale, to, t(locale, 'webhook_disabled_subject'), [
        t(locale, 'webhook_disabled_body_1', { url }),
        t(locale, 'webhook_disabled_body_2'),
      ])
    },
    /** `vars`: what the notice names (a passkey's name); the text escapes it like every value. */
    securityNotice(
      to: string,
      kind: SecurityNoticeKind,
      locale: MailLocale = 'en',
      vars: Record<string, string> = {},
    ): MailMessage {
      return compose(locale, to, t(locale, `${kind}_subject`), [
        t(locale, `${kind}_body`, vars),
        t(locale, 'notice_footer'),
      ])
    },
  }
}

export type Templates = ReturnType<typeof createTemplates>
