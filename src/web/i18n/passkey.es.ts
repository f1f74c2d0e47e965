import type { passkeyEn } from './passkey.en.js'

/** The sign-in pages' passkey messages in Spanish. */
export const passkeyEs: Readonly<Record<keyof typeof passkeyEn, string>> = {
  'passkey.error': 'No ha funcionado. Inténtalo de nuevo o usa otra forma de iniciar sesión.',
  'passkey.cancelled': 'Se ha cancelado la solicitud de la llave de acceso o se ha agotado el tiempo.',
  'passkey.needs_js': 'Las llaves de acceso necesitan JavaScript, que está desactivado en este navegador.',
  'passkey.sign_in': 'Continuar con una llave de acceso',
  'passkey.or': 'o',
  'passkey.use_for_mfa': 'Usar una llave de acceso',
  'passkey.mfa_intro_passkey': 'Confirma que eres tú con una de tus llaves de acceso.',
  'passkey.mfa_intro_both':
    'Confirma que eres tú con una de tus llaves de acceso, o escribe el código de 6 dígitos de tu aplicación de autenticación o un código de recuperación.',
  'passkey.refused': 'No se ha aceptado esta llave de acceso: {reason}',
  'passkey.expired': 'La solicitud de la llave de acceso ha caducado. Inténtalo de nuevo.',
}
