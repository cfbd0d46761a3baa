// What a pull added, as the live re-judgement sees it: single addresses listed, ranges and countries "wide".
import t from 'tap';
import { ChangeCollector } from '../../../../src/crowdsec/stream/decision-change';

t.test('a delta of addresses lists them; a range or a country makes it wide; a startup pull is full', async (t) => {
  const ips = new ChangeCollector(false);
  ips.collect([
    { scope: 'Ip', value: '1.2.3.4' },
    { scope: 'AS', value: '1234' },
  ]);
  t.same(ips.result(), { full: false, ips: ['1.2.3.4'], wide: false });
  const country = new ChangeCollector(false);
  country.collect([{ scope: 'Country', value: 'FR' }]);
  t.same(country.result(), { full: false, ips: [], wide: true }, 'a country decision may cover any open connection');
  const range = new ChangeCollector(false);
  range.collect([{ scope: 'range', value: '10.0.0.0/8' }]);
  t.match(range.result(), { wide: true });
  t.same(new ChangeCollector(true).result(), { full: true });
});
