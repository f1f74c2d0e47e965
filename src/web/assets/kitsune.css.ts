/**
 * The pages' one stylesheet, served by Kitsune at a URL carrying its hash (see assets.ts). Kept as
 * a module so `npm run build` puts it in dist/ with the code. Contrast: body text 15.9:1, muted
 * text 7.4:1, links and buttons at least 4.9:1 on their backgrounds (WCAG 2.2 AA); focus is a 3 px
 * outline that contrasts with every background it meets.
 */
export const KITSUNE_CSS = `*,*::before,*::after{box-sizing:border-box}
:root{
  --ink:#1c1917;--muted:#57534e;--line:#d6d3d1;--page:#faf7f2;--card:#ffffff;
  --accent:#b43c0a;--accent-dark:#8a2d06;--accent-soft:#fff1e6;
  --danger:#b91c1c;--danger-soft:#fef2f2;--success:#166534;--success-soft:#f0fdf4;
  --focus:#1d4ed8;--radius:10px;
  color-scheme:light;
  font-family:system-ui,-apple-system,"Segoe UI",Roboto,"Helvetica Neue",Arial,"Noto Sans",sans-serif;
  font-size:100%;line-height:1.5;color:var(--ink);background:var(--page);
  -webkit-text-size-adjust:100%;text-size-adjust:100%;
}
body{margin:0;min-height:100vh;display:flex;flex-direction:column}
.skip-link{position:absolute;left:.75rem;top:-4rem;padding:.5rem .875rem;background:var(--ink);color:#fff;border-radius:6px;z-index:10;text-decoration:none;font-weight:600}
.skip-link:focus{top:.75rem}
.site-header{padding:1.25rem 1rem .25rem;display:flex;justify-content:center}
.brand{display:inline-flex;align-items:center;gap:.5rem;color:var(--ink);font-weight:700;font-size:1.25rem;letter-spacing:-.01em;text-decoration:none}
.brand svg{width:2rem;height:2rem;flex:none}
main{flex:1;display:flex;justify-content:center;align-items:flex-start;padding:1rem 1rem 3rem}
main:focus{outline:none}
.card{width:100%;max-width:28rem;background:var(--card);border:1px solid var(--line);border-radius:var(--radius);padding:2rem 1.75rem;box-shadow:0 1px 2px rgb(28 25 23 / 6%),0 8px 24px rgb(28 25 23 / 6%)}
@media (max-width:30rem){.card{padding:1.5rem 1.125rem}main{padding:.5rem .75rem 2rem}}
h1{font-size:1.5rem;line-height:1.25;margin:0 0 .75rem;letter-spacing:-.01em;overflow-wrap:anywhere}
h2{font-size:1.0625rem;margin:0 0 .5rem}
p{margin:0 0 1rem;overflow-wrap:anywhere}
.muted{color:var(--muted);font-size:.9375rem}
a{color:var(--accent-dark);text-underline-offset:.15em}
a:hover{color:var(--ink)}
:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.field{margin:0 0 1.25rem}
label{display:block;font-weight:600;margin:0 0 .375rem}
.hint{display:block;color:var(--muted);font-size:.9375rem;margin:-.125rem 0 .375rem}
input[type=email],input[type=password],input[type=text]{
  display:block;width:100%;font:inherit;color:inherit;background:#fff;
  padding:.625rem .75rem;border:1.5px solid #78716c;border-radius:8px;min-height:2.75rem}
input:focus-visible{border-color:var(--focus);outline-offset:0}
input[aria-invalid=true]{border-color:var(--danger);border-width:2px}
.field-error{display:block;color:var(--danger);font-weight:600;margin:0 0 .375rem}
.button{
  display:inline-flex;align-items:center;justify-content:center;width:100%;min-height:2.75rem;
  font:inherit;font-weight:600;color:#fff;background:var(--accent);border:2px solid transparent;
  border-radius:8px;padding:.625rem 1rem;cursor:pointer;text-decoration:none;text-align:center}
.button:hover{background:var(--accent-dark);color:#fff}
.button:focus-visible{outline:3px solid var(--focus);outline-offset:2px}
.actions{margin:1.5rem 0 0;display:flex;flex-direction:column;gap:.75rem;align-items:center}
.error-summary{border:2px solid var(--danger);background:var(--danger-soft);border-radius:8px;padding:1rem 1.125rem;margin:0 0 1.5rem}
.error-summary:focus{outline:3px solid var(--focus);outline-offset:2px}
.error-summary ul{margin:0;padding-left:1.125rem}
.error-summary a{color:var(--danger);font-weight:600}
.card>:last-child{margin-bottom:0}
.notice{display:flex;gap:.75rem;align-items:flex-start;margin:0 0 1.25rem}
.notice p{margin:0;padding-top:.5rem}
.notice svg{width:2.5rem;height:2.5rem;flex:none}
.notice-success svg{color:var(--success)}
.notice-warning svg{color:var(--accent)}
.brand-logo{height:2rem;width:auto;max-width:10rem}
.button.secondary{color:var(--ink);background:var(--card);border:2px solid var(--line)}
.button.secondary:hover{background:var(--page);color:var(--ink)}
.actions form{width:100%;margin:0}
.actions form .button{width:100%}
.code{font:700 1.5rem/1.2 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;letter-spacing:.12em;text-align:center;padding:.75rem;background:var(--page);border:1px solid var(--line);border-radius:8px}
.scopes{padding-left:1.25rem;margin:0 0 1rem}
.scopes li{margin:.25rem 0}
.details{display:grid;grid-template-columns:auto 1fr;gap:.25rem .75rem;margin:1rem 0 0;font-size:.9375rem;overflow-wrap:anywhere}
.details dt{font-weight:600;color:var(--muted)}
.details dd{margin:0}
.qr{display:block;margin:0 auto 1rem;width:200px;height:200px;background:#fff}
.recovery-codes{columns:2;list-style:none;padding:0;margin:0 0 1.25rem;font-size:1.0625rem}
.recovery-codes li{margin:.25rem 0}
.site-footer{text-align:center;color:var(--muted);font-size:.875rem;padding:0 1rem 1.5rem}
[hidden]{display:none !important}
.passkey-form{margin:1rem 0 0}
.passkey-form .button{width:100%}
.divider{display:flex;align-items:center;gap:.75rem;color:var(--muted);font-size:.9375rem;margin:0 0 1rem}
.divider::before,.divider::after{content:"";flex:1;border-top:1px solid var(--line)}
.passkey-status{margin:.5rem 0 0;color:var(--danger);font-weight:600}
.passkey-status:empty{display:none}
`
