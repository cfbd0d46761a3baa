// The test country database writer: the daemon's own reader places the chosen addresses in their countries.
import t from 'tap';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { writeCountryMmdb } from '../../harness/mmdb';
import { openGeoDatabase } from '../../../src/daemon/geo-database';

t.test('writeCountryMmdb: chosen addresses in chosen countries, the rest unknown', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'nbp-mmdb-')), 'test.mmdb');
  writeCountryMmdb(file, { '127.0.0.2': 'FR', '127.0.0.3': 'DE', '10.1.2.3': 'FR' });
  const geo = openGeoDatabase(file);
  t.equal(geo.databaseType, 'Test-Country');
  const ips = ['127.0.0.2', '127.0.0.3', '127.0.0.4', '10.1.2.3', '::1', '8.8.8.8'];
  t.same(
    ips.map((ip) => geo.country(ip)),
    ['FR', 'DE', undefined, 'FR', undefined, undefined],
  );
});
