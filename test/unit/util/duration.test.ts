import t from 'tap';
import { parseGoDuration, tryParseGoDuration } from '../../../src/util/duration';

t.test('valid Go durations', async (t) => {
  const cases: [string, number][] = [
    ['0', 0],
    ['-0', 0],
    ['+0', 0],
    ['0s', 0],
    ['500ms', 500],
    ['1m30s', 90_000],
    ['3h59m58.5s', (3 * 3600 + 59 * 60 + 58.5) * 1000],
    ['4m59.33769458s', 299_337.69458],
    ['-24.57ms', -24.57],
    ['1h', 3_600_000],
    ['1.5h', 5_400_000],
    ['.5s', 500],
    ['1.s', 1000],
    ['+10s', 10_000],
    ['1us', 0.001],
    ['1\u00b5s', 0.001],
    ['1\u03bcs', 0.001],
    ['1500ns', 0.0015],
    ['1h1m1s1ms1us1ns', 3_661_001.001001],
    ['2h45m', 9_900_000],
    ['1000000000s', 1e12],
    ['-2562047h', -2562047 * 3_600_000],
    ['3h59m59.999999999s', 14_399_999.999999999], // eslint-disable-line no-loss-of-precision -- the expected value is what the parser computes
    ['2562047h', 2562047 * 3_600_000], // just below Go's limit (~292 years)
  ];
  for (const [s, want] of cases) {
    const got = parseGoDuration(s);
    t.ok(Math.abs(got - want) <= Math.abs(want) * 1e-12 + 1e-9, `${s} → ${got} (want ${want})`);
  }
});

t.test('invalid durations throw, naming the input', async (t) => {
  for (const s of [
    '',
    '5',
    '-',
    '+',
    '1d',
    '1.5.s',
    's',
    '.s',
    '1h 2m',
    ' 1s',
    '1s ',
    '1hm',
    '1S',
    '1Ms',
    '1sec',
    '00',
    '1h-1m',
    'ms',
    '1e3s',
    '--1s',
    'NaN',
    'Infinity',
    '100000000000s',
    '2562048h',
    '-9999999999h',
  ]) {
    t.throws(
      () => parseGoDuration(s),
      new RegExp(`invalid duration ${JSON.stringify(s).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}`),
      `rejects ${JSON.stringify(s)}`,
    );
    t.ok(Number.isNaN(tryParseGoDuration(s)), `try-form gives NaN for ${JSON.stringify(s)}`);
  }
});
