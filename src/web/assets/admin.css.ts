/**
 * The admin console's styles, appended to the pages' stylesheet (see assets.ts): a wider frame
 * with the sections' navigation, tables that scroll sideways inside their box on a narrow screen
 * (down to 360 px), and compact forms. Contrast as in kitsune.css.ts (WCAG 2.2 AA).
 *
 * Every rule applies on the console's pages only: under `body.admin` (AdminShell and its plain
 * pages) or under a class of the console's own (`.admin-header`, `.admin-main`). Element and
 * shared-class rules use `:where(.admin)`, which scopes them without raising their specificity,
 * so the console's cascade is the same as before and no other page inherits them.
 */
export const ADMIN_CSS = `body.admin main{display:block;padding:1rem 1rem 3rem}
.admin-header{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.5rem;padding:.75rem 1rem;background:var(--card);border-bottom:1px solid var(--line)}
.admin-header .brand{font-size:1.125rem}
.admin-badge{font-size:.8125rem;font-weight:600;color:var(--muted);border:1px solid var(--line);border-radius:999px;padding:.0625rem .5rem;margin-left:.25rem}
.admin-header nav ul{display:flex;flex-wrap:wrap;gap:.25rem .5rem;list-style:none;margin:0;padding:0}
.admin-header nav a{display:inline-block;padding:.375rem .625rem;border-radius:6px;text-decoration:none;font-weight:600}
.admin-header nav a:hover{background:var(--page)}
.admin-header nav a[aria-current=page]{background:var(--accent-soft);color:var(--ink);text-decoration:underline;text-decoration-thickness:2px}
.admin-who{margin-left:auto;display:flex;flex-wrap:wrap;align-items:center;gap:.25rem .75rem;font-size:.9375rem;color:var(--muted)}
.admin-who form{margin:0}
.admin-header .link-button{font:inherit;color:var(--accent-dark);background:none;border:0;padding:0;text-decoration:underline;text-underline-offset:.15em;cursor:pointer}
.admin-main{max-width:72rem;margin:0 auto;background:var(--card);border:1px solid var(--line);border-radius:var(--radius);padding:1.5rem 1.5rem 2rem}
.admin-main section{margin:0 0 2rem}
.admin-main h2{font-size:1.125rem;margin:1.5rem 0 .75rem}
.admin-main .button{width:auto}
:where(.admin) .button.inline{width:auto}
:where(.admin) .button.danger{background:var(--danger);color:#fff}
:where(.admin) .button.danger:hover{background:#7f1d1d;color:#fff}
:where(.admin) .button-row{display:flex;flex-wrap:wrap;gap:.75rem;align-items:center;margin:1rem 0}
:where(.admin) .button-row form{margin:0}
:where(.admin) .danger-zone{margin-top:2rem;padding-top:1rem;border-top:1px solid var(--line)}
.admin-main .table-wrap{overflow-x:auto;margin:0 0 1rem;border:1px solid var(--line);border-radius:8px}
.admin-main .table-wrap:focus-visible{outline:3px solid var(--focus)}
:where(.admin) table{border-collapse:collapse;width:100%;font-size:.9375rem}
:where(.admin) caption{text-align:left;font-weight:700;padding:.625rem .75rem;background:var(--page);border-bottom:1px solid var(--line)}
:where(.admin) th,:where(.admin) td{text-align:left;vertical-align:top;padding:.5rem .75rem;border-bottom:1px solid var(--line);white-space:nowrap}
:where(.admin) td.wrap{white-space:normal;overflow-wrap:anywhere;min-width:10rem}
:where(.admin) tbody tr:last-child td{border-bottom:0}
:where(.admin) th{font-weight:700;color:var(--muted);font-size:.875rem}
:where(.admin) .filters{display:flex;flex-wrap:wrap;gap:0 1rem;align-items:flex-end;margin:0 0 1.25rem}
:where(.admin) .filters .field{flex:1 1 12rem;margin-bottom:1rem}
:where(.admin) .filters .button{margin-bottom:1rem}
:where(.admin) select,:where(.admin) textarea,:where(.admin) input[type=search],:where(.admin) input[type=datetime-local]{display:block;width:100%;font:inherit;color:inherit;background:#fff;padding:.5rem .75rem;border:1.5px solid #78716c;border-radius:8px;min-height:2.75rem}
:where(.admin) textarea{min-height:6rem;font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;font-size:.875rem}
:where(.admin) select:focus-visible,:where(.admin) textarea:focus-visible{border-color:var(--focus);outline-offset:0}
:where(.admin) textarea[aria-invalid=true]{border-color:var(--danger);border-width:2px}
:where(.admin) fieldset{border:1px solid var(--line);border-radius:8px;margin:0 0 1.25rem;padding:.75rem 1rem}
:where(.admin) legend{font-weight:600;padding:0 .25rem}
:where(.admin) .checkbox{display:flex;gap:.5rem;align-items:flex-start;margin:.375rem 0}
:where(.admin) .checkbox input{width:1.25rem;height:1.25rem;margin:.125rem 0 0;flex:none;accent-color:var(--accent)}
:where(.admin) .checkbox label{font-weight:400;margin:0;min-width:0;overflow-wrap:anywhere}
:where(.admin) .checkbox .hint{margin:0}
:where(.admin) .checkbox-grid{display:grid;grid-template-columns:repeat(auto-fill,minmax(11rem,1fr));gap:0 1rem}
:where(.admin) .checkbox-grid.wide{grid-template-columns:repeat(auto-fill,minmax(min(100%,18.5rem),1fr))}
:where(.admin) .stats{display:grid;grid-template-columns:repeat(auto-fill,minmax(13rem,1fr));gap:.75rem;margin:0}
:where(.admin) .stat{border:1px solid var(--line);border-radius:8px;padding:.75rem 1rem;background:var(--page)}
:where(.admin) .stat dt{color:var(--muted);font-size:.875rem;font-weight:600}
:where(.admin) .stat dd{margin:.25rem 0 0;font-size:1.5rem;font-weight:700}
:where(.admin) .status-ok{color:var(--success)}
:where(.admin) .status-down{color:var(--danger)}
:where(.admin) .stat .stat-note{margin:.375rem 0 0;font-size:.875rem;font-weight:400;color:var(--muted)}
.admin-links{padding-left:1.25rem}
.admin-links li{margin:.25rem 0}
:where(.admin) .chip-list{list-style:none;padding:0;margin:0 0 1rem;display:flex;flex-direction:column;gap:.5rem}
:where(.admin) .chip-list li{display:flex;flex-wrap:wrap;gap:.75rem;align-items:center}
:where(.admin) .chip-list li>span{font-weight:600;min-width:6rem}
:where(.admin) .chip-list form{margin:0}
:where(.admin) .chip-list .button{min-height:2.25rem;padding:.25rem .75rem}
:where(.admin) .inline-form{display:flex;flex-wrap:wrap;gap:0 1rem;align-items:flex-end}
:where(.admin) .inline-form .field{flex:0 1 16rem;margin-bottom:1rem}
:where(.admin) .inline-form .button{margin-bottom:1rem}
:where(.admin) td form{margin:0}
:where(.admin) .button.compact{min-height:2.25rem;padding:.25rem .75rem}
:where(.admin) .pager{display:flex;gap:1.5rem;margin:0 0 1rem;font-weight:600}
:where(.admin) .copy-row{display:flex;flex-wrap:wrap;gap:.5rem .75rem;align-items:center}
:where(.admin) .copy-row .copy-field{flex:1 1 16rem;min-width:0}
:where(.admin) .copy-button[hidden]{display:none}
:where(.admin) .copy-status{font-weight:600;color:var(--success)}
:where(.admin) .copy-field{font-family:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;background:var(--page)}
:where(.admin) .metadata{background:var(--page);border:1px solid var(--line);border-radius:8px;padding:.75rem;overflow-x:auto;font-size:.875rem;white-space:pre-wrap;overflow-wrap:anywhere}
.admin-main .details{grid-template-columns:minmax(8rem,auto) 1fr}
.admin-main code{overflow-wrap:anywhere}
@media (max-width:40rem){
  body.admin main{padding:.5rem .5rem 2rem}
  .admin-main{padding:1rem .875rem 1.5rem}
  .admin-who{margin-left:0}
  .admin-main .details{grid-template-columns:1fr}
  .admin-main .details dd{margin-bottom:.5rem}
}
`
