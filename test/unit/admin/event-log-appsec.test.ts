// AppSec entries in the event log: observe entries are "observed", filed under appsec_<action> with
// the denied ones; CrowdSec's observe filing is unchanged; the API row carries the AppSec fields.
import t from 'tap';
import { PROXY_COOKIES } from '../../../src/appsec/core';
import { SESSION_COOKIE } from '../../../src/admin/auth';
import { eventJson, parseEventFilter } from '../../../src/admin/event-filter';
import { EventLog, observedVerdictKey, outcomeOf } from '../../../src/admin/event-log';
import { formatAccessLine, type AccessEntry } from '../../../src/telemetry/access-log';

function entry(path: string, deny: AccessEntry['deny_reason'], metadata: Record<string, string>): AccessEntry {
  return { service: 'svc', protocol: 'http', client_ip: '10.0.0.1', path, bytes_in: 0, bytes_out: 0, duration_ms: 1, deny_reason: deny, metadata };
}

t.test('observed and denied AppSec entries, filters and API rows', async (t) => {
  const log = new EventLog(10);
  const entries = [
    entry('/observed', '', { appsec_verdict: 'ban', appsec_mode: 'observe' }),
    entry('/denied', 'appsec_ban', { appsec_verdict: 'ban', appsec_mode: 'enforce' }),
    entry('/captcha', '', { appsec_verdict: 'captcha', appsec_mode: 'observe' }),
    entry('/cs-observed', '', { crowdsec_verdict: 'ban', crowdsec_mode: 'observe' }),
    entry('/failed-open', '', { appsec_verdict: 'unavailable', appsec_mode: 'enforce', appsec_error: 'timeout' }),
    entry('/clean', '', {}),
  ];
  entries.forEach((e, i) => log.append(e, 1000 + i, formatAccessLine(e, 1000 + i)));
  t.same(
    entries.map((e) => outcomeOf(e)),
    ['observed', 'denied', 'observed', 'observed', 'allowed', 'allowed'],
  );
  const pathsFor = (reason: string): string[] => {
    const q = log.compile(parseEventFilter(new URLSearchParams({ reason }), 100, 10_000));
    return [...log.newestFirst()].filter((s) => log.matches(s, q)).map((s) => String(eventJson(log.get(s)!).path));
  };
  t.same(pathsFor('appsec_ban'), ['/denied', '/observed'], 'denied and observed AppSec bans');
  t.same(pathsFor('appsec_captcha'), ['/captcha']);
  t.same(pathsFor('crowdsec_ban'), ['/cs-observed'], 'an AppSec ban is not a CrowdSec ban');
  t.match(eventJson(log.get(1)!), { outcome: 'observed', appsec_verdict: 'ban', appsec_mode: 'observe', decision: null });
  t.equal(observedVerdictKey({ appsec_verdict: 'ban', appsec_mode: 'enforce' }), undefined, 'only observed verdicts are filed as such');
  t.equal(observedVerdictKey({ crowdsec_verdict: 'ban', crowdsec_mode: 'observe', appsec_verdict: 'ban', appsec_mode: 'observe' }), 'ban', "CrowdSec's first");
});

t.test("the engine never gets the admin UI's session cookie", async (t) => {
  t.ok(PROXY_COOKIES.includes(SESSION_COOKIE), `${SESSION_COOKIE} is stripped`);
});
