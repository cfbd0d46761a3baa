// The login form shown when --admin-token is set. Works without JavaScript; messages are fixed
// strings of ours, escaped all the same.

const ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

export function loginPage(error: string | undefined): string {
  const message = error === undefined ? '' : `<p class="login-error" role="alert">${escapeHtml(error)}</p>`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>netbird-proxy admin · sign in</title>
<link rel="stylesheet" href="/ui/app.css">
</head>
<body class="login">
<main class="login-box">
<h1>netbird-proxy</h1>
<p>This admin listener needs the admin token (<code>--admin-token</code> / <code>NB_PROXY_ADMIN_TOKEN</code>).</p>
${message}
<form method="post" action="/login">
<label for="token">Admin token</label>
<input id="token" name="token" type="password" autocomplete="current-password" required autofocus>
<button type="submit">Sign in</button>
</form>
</main>
</body>
</html>
`;
}
