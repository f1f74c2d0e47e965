import { accountEs } from './account.es.js'
import { adminEs } from './admin.es.js'
import type { MessageKey } from './en.js'
import { passkeyEs } from './passkey.es.js'

/** Spanish (neutral, tuteo). The type makes a missing or unknown key a compile error. */
export const es: Readonly<Record<MessageKey, string>> = {
  'layout.skip_link': 'Saltar al contenido principal',
  'layout.error_prefix': 'Error',
  'layout.home_label': 'Kitsune, inicio',

  'form.error_summary_title': 'Hay un problema',
  'form.show_password_hint': 'Las contraseñas distinguen entre mayúsculas y minúsculas.',

  'nav.sign_in': 'Ir a iniciar sesión',
  'nav.back_to_sign_in': 'Volver a iniciar sesión',
  'nav.new_reset_link': 'Pedir un enlace nuevo',

  'forgot.title': '¿Olvidaste tu contraseña?',
  'forgot.intro':
    'Escribe la dirección de correo de tu cuenta y te enviaremos un enlace para elegir una contraseña nueva.',
  'forgot.email_label': 'Dirección de correo electrónico',
  'forgot.submit': 'Enviarme un enlace',
  'forgot.error_email_missing': 'Escribe tu dirección de correo electrónico',
  'forgot.error_email_invalid':
    'Escribe una dirección de correo con el formato correcto, como nombre@ejemplo.com',
  'forgot.sent_title': 'Revisa tu bandeja de entrada',
  'forgot.sent_body':
    'Si existe una cuenta con esa dirección, te hemos enviado un enlace para elegir una contraseña nueva. El enlace funciona una sola vez y caduca pronto.',
  'forgot.sent_hint':
    '¿No ha llegado nada en unos minutos? Revisa la carpeta de correo no deseado o pide un enlace nuevo.',

  'reset.title': 'Elige una contraseña nueva',
  'reset.intro':
    'Usa al menos {min} caracteres. Unas cuantas palabras sin relación entre sí forman una contraseña larga y fácil de recordar.',
  'reset.new_label': 'Contraseña nueva',
  'reset.confirm_label': 'Confirma la contraseña nueva',
  'reset.submit': 'Guardar mi contraseña nueva',
  'reset.error_new_missing': 'Escribe una contraseña nueva',
  'reset.error_too_short': 'Usa al menos {min} caracteres',
  'reset.error_too_long': 'Usa como máximo {max} caracteres',
  'reset.error_common': 'Esta contraseña es de las más usadas: elige otra',
  'reset.error_is_email': 'No uses tu dirección de correo como contraseña',
  'reset.error_rejected': 'Elige otra contraseña',
  'reset.error_confirm_missing': 'Escribe la contraseña nueva por segunda vez',
  'reset.error_mismatch': 'Las dos contraseñas no coinciden',
  'reset.done_title': 'Tu contraseña se ha cambiado',
  'reset.done_body':
    'Por tu seguridad, se han cerrado todas las sesiones de tu cuenta. Vuelve a iniciar sesión con tu contraseña nueva.',

  'verify.title': 'Confirma tu dirección de correo',
  'verify.intro': 'Pulsa el botón de abajo para confirmar que esta dirección de correo es tuya.',
  'verify.submit': 'Confirmar mi dirección',
  'verify.done_title': 'Tu dirección está confirmada',
  'verify.done_body': 'Gracias: tu dirección de correo ya está verificada.',

  'link.invalid_title': 'Este enlace no es válido o ha caducado',
  'link.invalid_reset_body':
    'Un enlace de restablecimiento funciona una sola vez y durante poco tiempo. Pide uno nuevo y usa el correo más reciente.',
  'link.invalid_verify_body':
    'Un enlace de verificación funciona una sola vez y durante poco tiempo. Inicia sesión y pide uno nuevo desde tu cuenta.',

  'error.title': 'Algo ha salido mal',
  'error.body': 'No hemos podido completar tu solicitud. Vuelve a intentarlo dentro de un momento.',
  'error.not_found_title': 'Página no encontrada',
  'error.not_found_body':
    'Comprueba la dirección. Si has seguido un enlace de un correo, puede que esté incompleto.',
  'error.csrf_title': 'Este formulario ha caducado',
  'error.csrf_body':
    'Por tu seguridad, el formulario no se ha enviado. Vuelve atrás, recarga la página e inténtalo de nuevo. Este sitio necesita cookies.',
  'error.rate_limited_title': 'Demasiados intentos',
  'error.rate_limited_body': 'Espera {seconds} segundos y vuelve a intentarlo.',
  'error.unavailable_title': 'No disponible temporalmente',
  'error.unavailable_body':
    'El servicio no puede responder ahora mismo. Vuelve a intentarlo dentro de un momento.',
  'error.bad_request_title': 'No se ha podido entender la solicitud',
  'error.bad_request_body': 'Vuelve atrás, recarga la página e inténtalo de nuevo.',

  'nav.sign_in_again': 'Volver a iniciar sesión',
  'sign_in.title': 'Iniciar sesión',
  'sign_in.for_client': 'para continuar a {client}',
  'sign_in.email_label': 'Correo electrónico',
  'sign_in.password_label': 'Contraseña',
  'sign_in.submit': 'Iniciar sesión',
  'sign_in.forgot': '¿Has olvidado tu contraseña?',
  'sign_in.sign_up': 'Crear una cuenta',
  'sign_in.error_email_missing': 'Escribe tu correo electrónico',
  'sign_in.error_password_missing': 'Escribe tu contraseña',
  'sign_in.error_invalid': 'El correo electrónico o la contraseña no son correctos',
  'sign_in.error_unverified':
    'Confirma tu correo electrónico con el enlace que te enviamos y luego inicia sesión',
  'sign_in.expired_title': 'Este inicio de sesión ha caducado',
  'sign_in.expired_body': 'Vuelve a la aplicación y empieza de nuevo.',
  'mfa.title': 'Verificación en dos pasos',
  'mfa.intro':
    'Escribe el código de 6 dígitos de tu aplicación de autenticación o uno de tus códigos de recuperación.',
  'mfa.code_label': 'Código de verificación',
  'mfa.code_hint': 'Por ejemplo 123456',
  'mfa.submit': 'Verificar',
  'mfa.error_missing': 'Escribe el código de tu aplicación de autenticación',
  'mfa.error_invalid': 'Ese código no es correcto o ha caducado',
  'account.title': 'Tu cuenta',
  'account.signed_in_as': 'Has iniciado sesión como {email}.',
  'sign_up.title': 'Crear una cuenta',
  'sign_up.name_label': 'Nombre completo (opcional)',
  'sign_up.email_label': 'Correo electrónico',
  'sign_up.password_label': 'Contraseña',
  'sign_up.password_hint':
    'Al menos {min} caracteres. Unas cuantas palabras sin relación forman una contraseña segura.',
  'sign_up.submit': 'Crear cuenta',
  'sign_up.have_account': '¿Ya tienes una cuenta? Inicia sesión',
  'sign_up.error_email_missing': 'Escribe tu correo electrónico',
  'sign_up.error_email_invalid': 'Escribe un correo electrónico válido, como nombre@ejemplo.com',
  'sign_up.error_taken': 'Ya existe una cuenta con este correo electrónico: inicia sesión',
  'sign_up.error_name_long': 'El nombre debe tener 200 caracteres como máximo',
  'sign_up.check_email_title': 'Revisa tu correo',
  'sign_up.check_email_body':
    'Te hemos enviado un enlace para confirmar tu correo electrónico. Ábrelo y luego inicia sesión.',
  'consent.title': '¿Permitir a {client}?',
  'consent.intro': '{client} quiere usar tu cuenta {email} para:',
  'consent.scope_openid': 'Saber quién eres',
  'consent.scope_profile': 'Ver tu nombre',
  'consent.scope_email': 'Ver tu correo electrónico',
  'consent.scope_offline_access': 'Mantener la sesión iniciada cuando no la estés usando',
  'consent.scope_roles': 'Ver tus roles y permisos',
  'consent.resource': 'Llamar a {resource} en tu nombre',
  'consent.revoke_later': 'Puedes retirar este permiso en cualquier momento desde tu cuenta.',
  'consent.allow': 'Permitir',
  'consent.deny': 'Denegar',
  'sign_out.title': 'Cerrar sesión',
  'sign_out.body': '¿Quieres cerrar la sesión?',
  'sign_out.from_client': '{client} está cerrando tu sesión. ¿Cerrarla también en todas las aplicaciones?',
  'sign_out.signed_in_as':
    'Has iniciado sesión como {email}. Al cerrar la sesión también se cierra en las aplicaciones que abriste aquí con esta cuenta.',
  'sign_out.submit': 'Cerrar sesión',
  'sign_out.stay': 'Mantener la sesión',
  'sign_out.done_title': 'Has cerrado la sesión',
  'sign_out.done_body': 'Se ha cerrado tu sesión.',
  'sign_out.not_signed_in': 'No has iniciado sesión en este navegador.',
  'device.title': 'Conectar un dispositivo',
  'device.intro': 'Escribe el código que aparece en tu dispositivo.',
  'device.code_label': 'Código',
  'device.submit': 'Continuar',
  'device.error_invalid': 'Ese código no es válido: revísalo e inténtalo de nuevo',
  'device.error_expired': 'Ese código ha caducado: pide uno nuevo en tu dispositivo',
  'device.confirm_title': 'Confirma el dispositivo',
  'device.confirm_body':
    '{client} pide iniciar sesión con tu cuenta. Comprueba que este código coincide con el de tu dispositivo:',
  'device.confirm_submit': 'Continuar',
  'device.abort': 'Cancelar',
  'device.done_title': 'Dispositivo conectado',
  'device.done_body': 'Ya puedes volver a tu dispositivo.',
  'oidc_error.title': 'La aplicación no ha podido iniciar tu sesión',
  'oidc_error.body':
    'La solicitud de la aplicación no era válida. Vuelve a la aplicación e inténtalo de nuevo; si vuelve a ocurrir, comunica los detalles siguientes a su administrador.',
  'oidc_error.code': 'Error',
  'oidc_error.description': 'Detalles',
  'select_account.title': 'Elige una cuenta',
  'select_account.body': '¿Qué cuenta quieres usar con {client}?',
  'select_account.continue_as': 'Continuar como {email}',
  'select_account.other': 'Usar otra cuenta',
  'enrol.title': 'Activa la verificación en dos pasos',
  'enrol.intro':
    'Esta aplicación pide un segundo paso al iniciar sesión. Escanea este código QR con una aplicación de autenticación (como Aegis, Google Authenticator o 1Password) y escribe el código de 6 dígitos que muestre.',
  'enrol.qr_alt': 'Código QR para tu aplicación de autenticación',
  'enrol.manual': '¿No puedes escanearlo? Escribe esta clave en la aplicación:',
  'enrol.submit': 'Activar la verificación en dos pasos',
  'enrol.codes_title': 'Guarda tus códigos de recuperación',
  'enrol.codes_intro':
    'Cada código te permite iniciar sesión una vez si pierdes tu autenticador. Guárdalos en un lugar seguro: solo se muestran ahora.',
  'enrol.continue': 'Ya los he guardado: continuar',
  'sign_in.reauth': 'Por seguridad, vuelve a escribir tu contraseña para continuar.',
  'email_change.title': 'Confirma tu nueva dirección de correo',
  'email_change.intro': 'Pulsa el botón de abajo para que esta sea la dirección de correo de tu cuenta.',
  'email_change.submit': 'Confirmar mi nueva dirección',
  'email_change.done_title': 'Se ha cambiado tu dirección de correo',
  'email_change.done_body': 'A partir de ahora, inicia sesión y recibe los mensajes con tu nueva dirección.',
  'email_change.invalid_body':
    'Un enlace de confirmación funciona una sola vez y durante poco tiempo. Inicia sesión y vuelve a pedir el cambio.',
  'email_change.taken_title': 'Esta dirección ya está en uso',
  'email_change.taken_body':
    'Otra cuenta usa esta dirección de correo, así que no se ha cambiado la dirección de tu cuenta.',
  'email_change.undo_title': 'Deshacer el cambio de dirección de correo',
  'email_change.undo_intro':
    'Pulsa el botón de abajo para mantener (o restablecer) esta dirección como la dirección de correo de tu cuenta. Por tu seguridad, se cerrarán todas las sesiones de tu cuenta.',
  'email_change.undo_submit': 'Deshacer el cambio y cerrar todas las sesiones',
  'email_change.undo_done_title': 'Se ha deshecho el cambio',
  'email_change.undo_done_body':
    'Tu cuenta vuelve a tener esta dirección de correo y se han cerrado todas las sesiones. Si no pediste el cambio, restablece tu contraseña ahora.',
  'email_change.undo_invalid_body': 'Un enlace para deshacer funciona una sola vez y durante 7 días.',
  'email_change.undo_taken_body':
    'Se han cerrado todas las sesiones de tu cuenta, pero la dirección anterior ahora pertenece a otra cuenta y no se ha podido restablecer. Avisa a tu administrador.',
  'email_change.reset_password': 'Restablecer mi contraseña',
  ...accountEs,
  ...adminEs,
  ...passkeyEs,
}
