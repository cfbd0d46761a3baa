// The pages the proxy shows on the reserved path: the password/PIN form, "signed out", and the
// refusals (not allowed, identity provider unavailable). Self-contained (no asset requests go to
// the upstream), the deny page's layout with the admin UI's colours, light or dark per the system.
import { escapeHtml } from '../util/deny-template';
import { AUTH_PREFIX } from './request';

export const STYLE = `:root{--bg:#f6f7f9;--panel:#fff;--text:#1b1f24;--muted:#5d6672;--border:#d9dde3;--accent:#1f6feb;--err-bg:#fde7e9;--err-fg:#a4111f;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#0f1216;--panel:#171b21;--text:#e6e9ee;--muted:#9aa4b1;--border:#2c333d;--accent:#4c8dff;--err-bg:#3a1519;--err-fg:#ff9ea8}}
*{box-sizing:border-box}body{font-family:system-ui,sans-serif;background:var(--bg);color:var(--text);margin:0;padding:4rem 1rem}
main{max-width:24rem;margin:0 auto;background:var(--panel);border:1px solid var(--border);border-radius:8px;padding:1.5rem}
h1{font-size:1.4rem;margin:0 0 .5rem}p{color:var(--muted);margin:.5rem 0 1rem;overflow-wrap:anywhere}
label{display:block;font-weight:600;margin-bottom:.35rem}
input{width:100%;font:inherit;font-size:1.1rem;padding:.55rem .6rem;border:1px solid var(--border);border-radius:6px;background:var(--bg);color:var(--text)}
button,.button{display:block;width:100%;margin-top:1rem;padding:.6rem;font:inherit;font-weight:600;border:0;border-radius:6px;background:var(--accent);color:#fff;text-align:center;text-decoration:none;cursor:pointer}
.error{background:var(--err-bg);color:var(--err-fg);padding:.5rem .7rem;border-radius:6px}`;

function page(title: string, body: string): string {
  return `<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1"><meta name="robots" content="noindex"><title>${escapeHtml(title)}</title>
<style>${STYLE}</style></head>
<body>
<main>
${body}
</main>
</body>
</html>
`;
}

export interface LoginForm {
  kind: 'password' | 'pin';
  host: string;
  returnTo: string;
  error?: string;
  /** PIN: the number of digits. */
  pinLength?: number;
}

export function loginPage(f: LoginForm): string {
  const error = f.error === undefined ? '' : `<p class="error" role="alert">${escapeHtml(f.error)}</p>\n`;
  const input =
    f.kind === 'pin'
      ? `<label for="secret">PIN</label>
<input id="secret" name="pin" type="password" inputmode="numeric" pattern="[0-9]*" maxlength="${f.pinLength ?? 12}" autocomplete="one-time-code" required autofocus>`
      : `<label for="secret">Password</label>
<input id="secret" name="password" type="password" autocomplete="current-password" required autofocus>`;
  return page(
    `Sign in · ${f.host}`,
    `<h1>Sign in</h1>
<p>${escapeHtml(f.host)} needs a ${f.kind === 'pin' ? 'PIN' : 'password'}.</p>
${error}<form method="post" action="${AUTH_PREFIX}login?rd=${escapeHtml(encodeURIComponent(f.returnTo))}">
<input type="hidden" name="rd" value="${escapeHtml(f.returnTo)}">
${input}
<button type="submit">Sign in</button>
</form>`,
  );
}

export function messagePage(title: string, text: string, link?: { href: string; label: string }): string {
  const a = link === undefined ? '' : `\n<a class="button" href="${escapeHtml(link.href)}">${escapeHtml(link.label)}</a>`;
  return page(title, `<h1>${escapeHtml(title)}</h1>\n<p>${escapeHtml(text)}</p>${a}`);
}
