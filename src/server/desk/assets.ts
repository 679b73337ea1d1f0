/**
 * The desk's static files: its style sheet, its one small client script (WebAuthn needs script in
 * the page), and @simplewebauthn/browser's own browser bundle read from node_modules. Kept as
 * strings in this module (not files beside it) so the CLI bundle carries them with no copy step.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** Colours meet WCAG AA contrast on white (4.5:1 for text); outcomes carry their word, never colour alone. */
export const DESK_CSS = `
:root{--ink:#1f2933;--muted:#52606d;--line:#cbd2d9;--bg:#f5f7fa;--ok:#1e6b3f;--bad:#b42318;--warn:#8a5300;--accent:#1d4ed8}
*{box-sizing:border-box}
body{font:15px/1.5 system-ui,-apple-system,"Segoe UI",sans-serif;margin:0;color:var(--ink);background:#fff}
a{color:var(--accent)}a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,[tabindex]:focus-visible{outline:3px solid #f59e0b;outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:#fff;padding:.5rem 1rem;z-index:10}.skip:focus{left:.5rem}
.top{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1.5rem;padding:.6rem 1rem;background:#102a43;color:#fff}
.top a{color:#fff}.brand{font-weight:700;text-decoration:none;font-size:1.1rem}
.top nav ul{display:flex;flex-wrap:wrap;gap:.25rem 1rem;list-style:none;margin:0;padding:0}
.top nav a[aria-current=page]{font-weight:700;text-decoration-thickness:3px}
.who{margin-left:auto;display:flex;flex-wrap:wrap;gap:.25rem .75rem;align-items:center}.who .muted{color:#d9e2ec}
.who form{display:inline;margin:0}
button.link{background:none;border:0;color:#fff;text-decoration:underline;cursor:pointer;font:inherit;padding:0}
main{max-width:1180px;margin:0 auto;padding:1rem;overflow-wrap:break-word}main:focus{outline:none}
.foot{max-width:1180px;margin:2rem auto 1rem;padding:0 1rem;color:var(--muted);font-size:13px}
h1{font-size:1.55rem;margin:.3rem 0 .4rem;overflow-wrap:anywhere}h2{font-size:1.25rem;margin-top:1.8rem;border-bottom:1px solid var(--line);padding-bottom:.2rem}h3{font-size:1.05rem;margin:1.2rem 0 .4rem}
code{font-size:13px;background:#eef2f7;padding:0 .25rem;border-radius:3px;overflow-wrap:anywhere}
.muted{color:var(--muted)}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;margin:.4rem 0;width:100%}caption{text-align:left;font-weight:600;padding:.2rem 0}
th,td{border:1px solid var(--line);padding:.3rem .5rem;text-align:left;vertical-align:top}th{background:var(--bg)}
.badge{display:inline-block;padding:0 .5rem;border-radius:9px;font-size:13px;font-weight:600;border:1px solid currentColor;white-space:nowrap}
.o-satisfied,.o-passed,.o-approve,.o-ok,.o-done{color:var(--ok)}.o-failed,.o-reject,.o-broken,.o-break-glass{color:var(--bad)}.o-errored,.o-stale,.o-expired,.o-waived,.o-open{color:var(--warn)}.o-missing{color:var(--muted)}
.notice{border:2px solid var(--line);border-radius:6px;padding:.6rem .9rem;margin:.5rem 0 1rem}.notice.ok{border-color:var(--ok)}.notice.error{border-color:var(--bad)}
.failures{border:2px solid var(--bad);border-radius:6px;padding:.3rem 1rem .8rem;margin:1rem 0}
.failures h2{border:0;margin-top:.5rem;color:var(--bad)}
.card{border:1px solid var(--line);border-radius:6px;padding:.5rem 1rem;margin:.8rem 0}
.gate{border:1px solid var(--line);border-left:5px solid var(--muted);border-radius:6px;padding:.3rem 1rem .6rem;margin:.8rem 0}
.gate.o-satisfied{border-left-color:var(--ok);color:inherit}.gate.o-stale{border-left-color:var(--warn);color:inherit}.gate.o-failed,.gate.o-errored{border-left-color:var(--bad);color:inherit}
.req{padding:.4rem 0;border-top:1px solid #e4e7eb}.req:first-of-type{border-top:0}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end;margin:.4rem 0}
.actions form{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end;margin:0}
label{display:block;font-weight:600;font-size:14px}
input[type=text],input[type=password],input[type=search],input[type=datetime-local],select,textarea{font:inherit;padding:.35rem .5rem;border:1px solid #7b8794;border-radius:4px;max-width:100%}
textarea{width:min(36rem,100%)}
button,.button{font:inherit;padding:.4rem .9rem;border-radius:4px;border:1px solid #1e3a8a;background:#1d4ed8;color:#fff;cursor:pointer;text-decoration:none;display:inline-block}
button.secondary{background:#fff;color:#1e3a8a}button.danger{background:#b42318;border-color:#7a271a}
button[disabled]{background:#e4e7eb;color:#3e4c59;border-color:#9aa5b1;cursor:not-allowed}
.why{font-size:14px;color:var(--muted);margin:.2rem 0;overflow-wrap:anywhere}
.grid{display:grid;grid-template-columns:repeat(auto-fit,minmax(min(280px,100%),1fr));gap:1rem}.grid>*{min-width:0}
.pipeline td{min-width:9rem}.waiting{margin:.3rem 0 0;padding-left:1.1rem;font-size:14px}
.charts{display:flex;flex-wrap:wrap;gap:1rem}.charts svg,svg.lineage{max-width:100%;height:auto}
.charts svg{overflow:hidden}svg .t{font-weight:600;font-size:12px}svg .l{font-size:10px;fill:#3e4c59}svg .axis{stroke:#7b8794}svg .thr{stroke:#b42318;stroke-dasharray:4 3}svg .thrl{fill:#b42318}
svg.lineage rect{fill:#eef2f7;stroke:#52606d}svg.lineage text{font-size:12px;fill:#1f2933}svg.lineage path{stroke:#52606d;fill:none}
.result{border:1px solid var(--line);border-left-width:5px;border-radius:4px;padding:.25rem 1rem;margin:1rem 0;overflow-wrap:anywhere}
.result.passed{border-left-color:var(--ok)}.result.failed{border-left-color:var(--bad)}.result.errored{border-left-color:var(--warn)}
.result .badge.passed{color:var(--ok)}.result .badge.failed{color:var(--bad)}.result .badge.errored{color:var(--warn)}
.diff .same{color:var(--muted)}.diff .changed{font-weight:600}
form.filters{display:flex;flex-wrap:wrap;gap:.6rem;align-items:flex-end}
.login{max-width:32rem}
.tabs{display:flex;flex-wrap:wrap;gap:.5rem;list-style:none;padding:0}.tabs a[aria-current=page]{font-weight:700}
pre{white-space:pre-wrap;overflow-wrap:anywhere;background:var(--bg);padding:.5rem;border-radius:4px;font-size:13px}
@media (max-width:600px){main{padding:.6rem}h1{font-size:1.3rem}.who{margin-left:0}}
`;

/**
 * The client script: passkey registration and sign-off by passkey, through @simplewebauthn/browser
 * (loaded before it as the global SimpleWebAuthnBrowser). Each action asks the server for WebAuthn
 * options, runs the browser's ceremony, and sends the answer back; the page then reloads to show
 * what was recorded. Forms without script still post (sign-off needs script: WebAuthn has no form).
 */
export const DESK_JS = `
(function () {
  'use strict';
  function csrf(el) {
    var f = el.closest('form');
    var input = (f && f.querySelector('input[name=_csrf]')) || document.querySelector('input[name=_csrf]');
    return input ? input.value : '';
  }
  function say(el, text, bad) {
    var out = el.closest('[data-status-root]') || document;
    var s = out.querySelector('[data-status]');
    if (s) { s.textContent = text; s.className = bad ? 'why o-failed' : 'why'; }
  }
  async function post(url, body, token) {
    var res = await fetch(url, { method: 'POST', credentials: 'same-origin', headers: { 'content-type': 'application/json', 'x-csrf-token': token, accept: 'application/json' }, body: JSON.stringify(body) });
    var data = await res.json().catch(function () { return {}; });
    if (!res.ok) throw new Error((data.error && data.error.message) || ('the server answered ' + res.status));
    return data;
  }
  var W = window.SimpleWebAuthnBrowser;
  document.addEventListener('click', async function (ev) {
    var btn = ev.target.closest && ev.target.closest('[data-passkey-register]');
    if (!btn) return;
    ev.preventDefault();
    var token = csrf(btn);
    try {
      btn.disabled = true;
      say(btn, 'Follow your browser to create the passkey…');
      var o = await post('/desk/passkeys/options', {}, token);
      var response = await W.startRegistration({ optionsJSON: o.options });
      await post('/desk/passkeys', { response: response, ticket: o.ticket }, token);
      say(btn, 'Passkey registered. You can sign off with it now.');
      location.reload();
    } catch (e) {
      say(btn, 'Passkey not registered: ' + e.message, true);
      btn.disabled = false;
    }
  });
  document.addEventListener('submit', async function (ev) {
    var form = ev.target;
    if (!form.matches || !form.matches('form[data-signoff]')) return;
    ev.preventDefault();
    var submitter = ev.submitter;
    var decision = submitter && submitter.value === 'reject' ? 'reject' : 'approve';
    var token = csrf(form);
    var comment = form.querySelector('[name=comment]');
    var body = { stage: form.dataset.stage, role: form.dataset.role, gate: form.dataset.gate, decision: decision };
    if (comment && comment.value) body.comment = comment.value;
    var buttons = form.querySelectorAll('button');
    buttons.forEach(function (b) { b.disabled = true; });
    try {
      say(form, 'Confirm with your passkey…');
      var o = await post(form.action + '/options', body, token);
      var response = await W.startAuthentication({ optionsJSON: o.options });
      var done = await post(form.action, { response: response, ticket: o.ticket }, token);
      location.assign(done.location);
    } catch (e) {
      say(form, 'Not recorded: ' + e.message, true);
      buttons.forEach(function (b) { b.disabled = false; });
    }
  });
})();
`;

let webauthnBundle: string | undefined;

/** @simplewebauthn/browser's UMD bundle (defines the global SimpleWebAuthnBrowser), read once. */
export function webauthnBrowserScript(): string {
  if (webauthnBundle === undefined) {
    // The package's exports do not name its bundle, so look for it in node_modules above this module.
    const rel = path.join('node_modules', '@simplewebauthn', 'browser', 'dist', 'bundle', 'index.umd.min.js');
    for (let dir = path.dirname(fileURLToPath(import.meta.url)); ; dir = path.dirname(dir)) {
      const file = path.join(dir, rel);
      if (fs.existsSync(file)) {
        webauthnBundle = fs.readFileSync(file, 'utf8');
        break;
      }
      if (path.dirname(dir) === dir) throw new Error(`@simplewebauthn/browser is not installed above ${fileURLToPath(import.meta.url)}`);
    }
  }
  return webauthnBundle;
}
