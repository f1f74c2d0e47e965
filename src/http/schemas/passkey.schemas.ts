import { CurrentPassword, DateTime } from './common.schemas.js'
import { Type } from './type.js'

const strict = { additionalProperties: false } as const
const B64URL = Type.String({ maxLength: 16_384, pattern: '^[A-Za-z0-9_-]*$' })

export const PasskeyPublic = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    name: Type.String(),
    created_at: DateTime,
    last_used_at: Type.Union([DateTime, Type.Null()]),
    transports: Type.Array(Type.String(), {
      description: 'How the browser reaches it: internal, hybrid, usb…',
    }),
    aaguid: Type.String({ description: 'The authenticator model (all zeros when it does not say)' }),
    backup_eligible: Type.Boolean({ description: 'A synced passkey (it can live on several devices)' }),
    backed_up: Type.Boolean(),
  },
  { $id: 'PasskeyPublic', description: 'A passkey: never its key material' },
)

export const PasskeyList = Type.Object({ items: Type.Array(Type.Ref('PasskeyPublic')) })

export const PasskeyParams = Type.Object(
  { id: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
)
export const AdminPasskeyParams = Type.Object(
  { id: Type.String({ format: 'uuid' }), pid: Type.String({ format: 'uuid' }) },
  { additionalProperties: false },
)

const PasskeyName = Type.String({ minLength: 1, maxLength: 64, description: 'A name to tell it apart' })

/** What @simplewebauthn/browser's startRegistration() resolves to (WebAuthn's RegistrationResponseJSON). */
export const RegistrationCredential = Type.Object(
  {
    id: B64URL,
    rawId: B64URL,
    type: Type.Literal('public-key'),
    response: Type.Object({
      clientDataJSON: B64URL,
      attestationObject: B64URL,
      authenticatorData: Type.Optional(B64URL),
      transports: Type.Optional(Type.Array(Type.String({ maxLength: 32 }), { maxItems: 16 })),
      publicKeyAlgorithm: Type.Optional(Type.Integer()),
      publicKey: Type.Optional(B64URL),
    }),
    authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
    clientExtensionResults: Type.Object({}),
  },
  { description: 'navigator.credentials.create() as JSON (PublicKeyCredential.toJSON())' },
)

/** What startAuthentication() resolves to (WebAuthn's AuthenticationResponseJSON). */
export const AuthenticationCredential = Type.Object(
  {
    id: B64URL,
    rawId: B64URL,
    type: Type.Literal('public-key'),
    response: Type.Object({
      clientDataJSON: B64URL,
      authenticatorData: B64URL,
      signature: B64URL,
      userHandle: Type.Optional(B64URL),
    }),
    authenticatorAttachment: Type.Optional(Type.String({ maxLength: 32 })),
    clientExtensionResults: Type.Object({}),
  },
  { description: 'navigator.credentials.get() as JSON (PublicKeyCredential.toJSON())' },
)

export const PasskeyRegistrationOptionsBody = Type.Object(
  { password: CurrentPassword },
  { ...strict, description: 'Adding a way in asks for the password first' },
)

export const PasskeyRegisterBody = Type.Object(
  { credential: RegistrationCredential, name: Type.Optional(PasskeyName) },
  strict,
)

export const PasskeyRenameBody = Type.Object({ name: PasskeyName }, strict)

export const PasskeyDeleteBody = Type.Object({ password: CurrentPassword }, strict)

export const PasskeyAuthOptionsBody = Type.Union([
  Type.Object(
    {
      mfa_token: Type.Optional(
        Type.String({
          minLength: 16,
          maxLength: 256,
          description: 'From a login that answered mfa_required: options for that account’s passkeys',
        }),
      ),
    },
    strict,
  ),
  Type.Null(),
])

export const PasskeyVerifyBody = Type.Object(
  {
    credential: AuthenticationCredential,
    mfa_token: Type.Optional(Type.String({ minLength: 16, maxLength: 256 })),
  },
  strict,
)

/**
 * WebAuthn options as JSON (PublicKeyCredentialCreationOptionsJSON or RequestOptionsJSON): hand
 * them to @simplewebauthn/browser (`startRegistration({ optionsJSON })`) or
 * `PublicKeyCredential.parseCreationOptionsFromJSON`.
 */
export const WebAuthnOptions = Type.Object(
  { challenge: Type.String(), timeout: Type.Optional(Type.Integer()) },
  { additionalProperties: true, description: 'WebAuthn options (JSON form)' },
)
