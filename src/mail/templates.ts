import type { MailMessage } from './mailer.js'

const escapeHtml = (text: string) =>
  text.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string,
  )

function compose(
  to: string,
  subject: string,
  paragraphs: string[],
  link?: { url: string; label: string },
): MailMessage {
  const text = [...paragraphs, ...(link ? [`${link.label}: ${link.url}`] : []), '— Kitsune'].join('\n\n')
  const html = [
    '<!doctype html><html><body style="font-family:sans-serif;line-height:1.5">',
    ...paragraphs.map((p) => `<p>${escapeHtml(p)}</p>`),
    ...(link ? [`<p><a href="${escapeHtml(link.url)}">${escapeHtml(link.label)}</a></p>`] : []),
    '<p>— Kitsune</p></body></html>',
  ].join('')
  return { to, subject, text, html }
}

/** The e-mails Kitsune sends; links are built from PUBLIC_URL. */
export function createTemplates(publicUrl: string) {
  const link = (path: string, token: string) => `${publicUrl}${path}?token=${encodeURIComponent(token)}`
  return {
    passwordReset(to: string, token: string, ttlMinutes: number): MailMessage {
      return compose(
        to,
        'Reset your password',
        [
          'Someone asked to reset the password of your account. If it was you, use the link below.',
          `The link works once and expires in ${ttlMinutes} minutes. If it was not you, ignore this e-mail: your password stays as it is.`,
        ],
        { url: link('/ui/reset-password', token), label: 'Choose a new password' },
      )
    },
    passwordChanged(to: string): MailMessage {
      return compose(to, 'Your password was changed', [
        'The password of your account was just changed, and every session was signed out.',
        'If you did not do this, reset your password now and contact your administrator.',
      ])
    },
    verifyEmail(to: string, token: string, ttlHours: number): MailMessage {
      return compose(
        to,
        'Confirm your e-mail address',
        [`Please confirm that this is your e-mail address. The link expires in ${ttlHours} hours.`],
        { url: link('/ui/verify-email', token), label: 'Confirm my address' },
      )
    },
    securityNotice(to: string, subject: string, what: string): MailMessage {
      return compose(to, subject, [
        what,
        'If this was not you, reset your password now and contact your administrator.',
      ])
    },
  }
}

export type Templates = ReturnType<typeof createTemplates>
