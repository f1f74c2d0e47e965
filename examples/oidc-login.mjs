// Signs in to Kitsune as an application would: node examples/oidc-login.mjs CLIENT_ID CLIENT_SECRET
// Register the client first (README § OpenID Provider, quick start), with the redirect URI
// http://127.0.0.1:3000/callback. Open the URL this prints, sign in, and the tokens' claims appear.
import { createServer } from 'node:http'
import * as oidc from 'openid-client'

const [clientId, clientSecret] = process.argv.slice(2)
const issuer = new URL(process.env.ISSUER ?? 'http://localhost:8000')
const redirectUri = 'http://127.0.0.1:3000/callback'
const options = issuer.protocol === 'http:' ? { execute: [oidc.allowInsecureRequests] } : undefined
const config = await oidc.discovery(issuer, clientId, clientSecret, undefined, options)
const verifier = oidc.randomPKCECodeVerifier()
const state = oidc.randomState()
const url = oidc.buildAuthorizationUrl(config, {
  redirect_uri: redirectUri,
  scope: 'openid profile email roles',
  code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
  code_challenge_method: 'S256',
  state,
})
console.log(`Open this URL in a browser:\n${url.href}`)

const server = createServer(async (req, res) => {
  if (!req.url?.startsWith('/callback')) return res.writeHead(404).end()
  const tokens = await oidc.authorizationCodeGrant(config, new URL(req.url, redirectUri), {
    pkceCodeVerifier: verifier,
    expectedState: state,
  })
  const claims = tokens.claims()
  const user = await oidc.fetchUserInfo(config, tokens.access_token, claims.sub)
  console.log({ id_token_claims: claims, userinfo: user })
  res.writeHead(200, { 'content-type': 'text/plain; charset=utf-8' }).end(`Signed in as ${user.email}\n`)
  server.close()
})
server.listen(3000, '127.0.0.1')
