// Passive and active health of one target: the failure window, the deadline, the counters and
// the reason given when a target is down.
import t from 'tap';
import { recordFailure, recordProbe, recordSuccess, TargetState } from '../../../src/routing/health';

t.test('the reason a target is down', async (t) => {
  const s = new TargetState();
  t.equal(s.downReason(0), undefined);
  s.downUntil = 1000;
  t.equal(s.downReason(999), 'failures');
  t.equal(s.downReason(1000), undefined, 'up again at the deadline');
  s.probeUp = false;
  t.equal(s.downReason(2000), 'probe');
  t.equal(s.downReason(500), 'probe', 'probes win over failures');
});

t.test('every failure is counted; max_fails 0 never takes a target down', async (t) => {
  const s = new TargetState();
  const never = { maxFails: 0, failTimeoutMs: 1000 };
  for (let i = 0; i < 5; i++) t.notOk(recordFailure(s, never, i));
  t.equal(s.failures, 5);
  t.ok(s.up(5));
  t.equal(s.downReason(5), undefined);
});

t.test('the failure window: fail_timeout is inclusive, and restarts after a success', async (t) => {
  const policy = { maxFails: 2, failTimeoutMs: 1000 };
  const edge = new TargetState();
  t.notOk(recordFailure(edge, policy, 0));
  t.ok(recordFailure(edge, policy, 1000), 'exactly fail_timeout after the first: still in the window');
  t.equal(edge.downUntil, 2000);

  const s = new TargetState();
  t.notOk(recordFailure(s, policy, 0));
  recordSuccess(s);
  t.notOk(recordFailure(s, policy, 900), 'a success: the count starts again');
  t.ok(recordFailure(s, policy, 1500), 'two failures within 1000 ms of the window opened at 900');
  t.equal(s.failures, 3);
});

t.test('the window opens again after a target went down', async (t) => {
  const s = new TargetState();
  const policy = { maxFails: 2, failTimeoutMs: 1000 };
  recordFailure(s, policy, 0);
  t.ok(recordFailure(s, policy, 100), 'down until 1100');
  t.notOk(recordFailure(s, policy, 200), 'a failure while down opens a new window');
  t.ok(recordFailure(s, policy, 1150), 'counted with the one at 200: down again, and it was up');
  t.equal(s.downUntil, 2150);
});

t.test('a failure that finds the target already down does not report it going down', async (t) => {
  const s = new TargetState();
  const policy = { maxFails: 1, failTimeoutMs: 1000 };
  t.ok(recordFailure(s, policy, 0));
  t.notOk(recordFailure(s, policy, 500), 'already down: the deadline moves, no new "down"');
  t.equal(s.downUntil, 1500);
  t.ok(recordFailure(s, policy, 1500), 'at its deadline it was up again');
});

t.test('probes and the passive deadline', async (t) => {
  const s = new TargetState();
  s.downUntil = 10_000;
  t.ok(recordProbe(s, false, 1, 1, 'refused'));
  t.equal(s.downUntil, 10_000, 'a probe taking it down keeps the passive deadline');
  t.ok(recordProbe(s, true, 1, 1));
  t.equal(s.lastProbeError, undefined);
  t.ok(s.up(500), 'probes bringing it up clear the passive deadline');
});
