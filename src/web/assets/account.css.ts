/**
 * The account console's styles, appended to the pages' stylesheet (see assets.ts). Everything is
 * scoped under .account-layout. Contrast: the danger button's white text on #b91c1c is 6.5:1, the
 * badge's text 7:1 or more (WCAG 2.2 AA); focus keeps the pages' 3 px outline. Below 40rem the
 * tables become one card per row, each cell labelled from its data-label (nothing overflows at 360 px).
 */
export const ACCOUNT_CSS = `main.account-main{align-items:flex-start}
.account-layout{width:100%;max-width:74rem;display:grid;grid-template-columns:12rem minmax(0,1fr);gap:1.25rem;align-items:start}
.account-layout .account-card{max-width:none}
.account-nav ul{list-style:none;margin:0;padding:0;display:flex;flex-direction:column;gap:.125rem}
.account-nav a{display:block;padding:.5rem .75rem;border-radius:8px;color:var(--ink);text-decoration:none;font-weight:500}
.account-nav a:hover{background:var(--accent-soft);color:var(--ink)}
.account-nav a[aria-current=page]{background:var(--card);border:1px solid var(--line);font-weight:700;color:var(--accent-dark);box-shadow:inset 3px 0 0 var(--accent)}
.account-layout h2{font-size:1.125rem;margin:0 0 .5rem}
.account-section{margin:2rem 0 0;padding:1.5rem 0 0;border-top:1px solid var(--line)}
.account-section:first-of-type{margin-top:1.5rem}
.account-sections{list-style:none;padding:0;margin:0;display:grid;gap:.75rem}
.account-sections li{display:flex;flex-direction:column;gap:.125rem}
.account-sections a{font-weight:600}
.account-summary{margin:0 0 1rem}
.account-layout form{margin:0 0 1rem}
.account-layout .field input{max-width:30rem}
.account-layout .button{width:auto;min-width:12rem}
.account-layout .button.small{min-width:0;white-space:nowrap;min-height:2.25rem;padding:.375rem .75rem;font-size:.9375rem}
.account-layout .button.danger{background:var(--danger);color:#fff}
.account-layout .button.danger:hover{background:#7f1d1d;color:#fff}
.account-layout .button.secondary{background:var(--card);color:var(--ink);border:2px solid #78716c}
.account-layout .button.secondary:hover{background:var(--page);color:var(--ink)}
.account-layout .actions{flex-direction:row;flex-wrap:wrap;justify-content:flex-start;align-items:center}
.account-layout .account-key{font-size:1.125rem;overflow-wrap:anywhere}
.account-layout .recovery-codes{columns:2;max-width:24rem}
.account-layout .recovery-codes code{font:600 1.0625rem/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
.account-danger-zone{border-left:4px solid var(--danger);background:var(--danger-soft);border-radius:0 8px 8px 0;padding:.875rem 1rem;margin:0 0 1.5rem;font-weight:600}
.account-danger-zone p{margin:0}
.account-visually-hidden{position:absolute;width:1px;height:1px;padding:0;margin:-1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap;border:0}
.account-layout .account-table-wrap{overflow-x:auto;margin:0 0 1.25rem}
.account-table{width:100%;border-collapse:collapse;font-size:.9375rem}
.account-table caption{text-align:left;font-weight:700;padding:0 0 .5rem;font-size:1rem}
.account-table th,.account-table td{text-align:left;vertical-align:top;padding:.625rem .5rem;border-bottom:1px solid var(--line)}
.passkey-actions form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:0 0 .5rem}
.passkey-actions input[type=text]{max-width:14rem}
.account-table thead th{color:var(--muted);font-weight:600;border-bottom:2px solid var(--line);white-space:nowrap}
.account-table tbody th{font-weight:600;color:var(--ink)}
.account-table tr.current{background:var(--accent-soft)}
.account-table tr.failed th{color:var(--danger)}
.account-table form{margin:0}
.account-badge{display:inline-block;margin-left:.5rem;padding:.0625rem .5rem;border-radius:999px;background:var(--success-soft);color:var(--success);border:1px solid var(--success);font-size:.8125rem;font-weight:700;white-space:nowrap}
.account-badge.muted{background:var(--page);color:var(--muted);border-color:var(--line)}
.account-pager{display:flex;gap:1.5rem;flex-wrap:wrap;margin:0 0 1rem}
@media (max-width:52rem){
  .account-layout{grid-template-columns:minmax(0,1fr)}
  .account-nav ul{flex-direction:row;flex-wrap:wrap;gap:.25rem}
  .account-nav a{padding:.375rem .625rem;border:1px solid var(--line);background:var(--card);font-size:.9375rem}
}
@media (max-width:40rem){
  .account-table thead{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0)}
  .account-table caption{display:block}
  .account-table,.account-table tbody,.account-table tr,.account-table th,.account-table td{display:block;width:100%}
  .account-table tr{border:1px solid var(--line);border-radius:8px;margin:0 0 .75rem;padding:.25rem .75rem}
  .account-table th,.account-table td{border:0;padding:.375rem 0;overflow-wrap:anywhere}
  .account-table [data-label]::before{content:attr(data-label);display:block;color:var(--muted);font-size:.8125rem;font-weight:600}
  .account-layout .button{width:100%;min-width:0}
  .account-layout .recovery-codes{columns:1}
  .account-summary{grid-template-columns:minmax(0,1fr)}
  .account-summary dd{margin:0 0 .5rem}
}
`
