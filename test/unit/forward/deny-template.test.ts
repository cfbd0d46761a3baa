import t from 'tap';
import { builtinDenyPage, denyValues, reasonText } from '../../../src/forward/deny-response';
import { compileDenyTemplate, escapeHtml, renderDenyTemplate, type DenyTemplate, type DenyValues } from '../../../src/util/deny-template';

const VALUES: DenyValues = {
  reason: 'blocked by security policy',
  reason_code: 'crowdsec_ban',
  client_ip: '2001:db8::1',
  request_id: 'abc-1',
  time: '2026-01-02T03:04:05.000Z',
  status: '403',
  contact_url: '',
};

function compile(text: string): DenyTemplate {
  const c = compileDenyTemplate(text);
  if ('error' in c) throw new Error(c.error);
  return c;
}

t.test('every {{variable}} is replaced, with or without spaces inside the braces', async (t) => {
  const tpl = compile('<p>{{reason}} ({{ reason_code }}) for {{client_ip}} id={{request_id}} at {{time}} [{{status}}] {{contact_url}}</p>');
  t.equal(renderDenyTemplate(tpl, VALUES), '<p>blocked by security policy (crowdsec_ban) for 2001:db8::1 id=abc-1 at 2026-01-02T03:04:05.000Z [403] </p>');
  t.equal(renderDenyTemplate(compile('no variables'), VALUES), 'no variables');
  t.equal(renderDenyTemplate(compile('{{request_id}}{{request_id}}'), VALUES), 'abc-1abc-1', 'adjacent and repeated');
  t.equal(renderDenyTemplate(compile('a {{ b } {{'), VALUES), 'a {{ b } {{', 'a brace that is no placeholder stays literal');
});

t.test('every value is HTML-escaped', async (t) => {
  const tpl = compile('<a href="{{contact_url}}">{{request_id}}</a>');
  const out = renderDenyTemplate(tpl, { ...VALUES, contact_url: 'https://x/?a=1&b="><script>', request_id: `<img src=x onerror='1'>` });
  t.equal(out, '<a href="https://x/?a=1&amp;b=&quot;&gt;&lt;script&gt;">&lt;img src=x onerror=&#39;1&#39;&gt;</a>');
  t.equal(escapeHtml(`&<>"'`), '&amp;&lt;&gt;&quot;&#39;');
});

t.test('an unknown variable is refused at compile time, naming it and the known ones', async (t) => {
  const c = compileDenyTemplate('<p>{{reason}} {{ lapi_url }}</p>');
  t.ok('error' in c);
  t.match(c, { error: /^unknown variable \{\{lapi_url\}\}; known: reason, reason_code, client_ip, request_id, time, status, contact_url$/ });
});

t.test('the built-in page: reason category and request id, escaped; the contact link only when configured', async (t) => {
  const page = builtinDenyPage(VALUES);
  t.match(page, /<title>Access denied<\/title>/);
  t.match(page, /refused: blocked by security policy\./);
  t.match(page, /<code id="request-id">abc-1<\/code>/);
  t.notMatch(page, /crowdsec_ban|2001:db8::1/, 'no deny_reason code and no client address');
  t.notMatch(page, /<a /, 'no contact link by default');
  const linked = builtinDenyPage({ ...VALUES, contact_url: 'mailto:admin@example.com?subject=a&b' });
  t.match(linked, /<a href="mailto:admin@example.com\?subject=a&amp;b">/);
  t.match(builtinDenyPage({ ...VALUES, request_id: '<b>' }), /<code id="request-id">&lt;b&gt;<\/code>/);
});

t.test('reason categories', async (t) => {
  t.equal(reasonText('ip_restricted'), 'blocked by network policy');
  t.equal(reasonText('country_restricted'), 'not available in your country');
  t.equal(reasonText('crowdsec_ban'), 'blocked by security policy');
  t.equal(reasonText('crowdsec_captcha'), 'blocked by security policy');
  t.equal(reasonText('crowdsec_unavailable'), 'a security check is temporarily unavailable');
  t.equal(reasonText('geo_unavailable'), 'a security check is temporarily unavailable');
  t.equal(reasonText('service_removed'), 'blocked by access policy');
  const v = denyValues({ reason: 'ip_restricted', clientIp: '127.0.0.2', requestId: 'r1' }, 451, undefined, new Date(0));
  t.strictSame(v, {
    reason: 'blocked by network policy',
    reason_code: 'ip_restricted',
    client_ip: '127.0.0.2',
    request_id: 'r1',
    time: '1970-01-01T00:00:00.000Z',
    status: '451',
    contact_url: '',
  });
});
