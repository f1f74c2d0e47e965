import type { MessageKey } from './en.js'

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
}
