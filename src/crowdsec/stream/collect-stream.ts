// Collects a parsed decision stream body into a StreamResponse, for callers that want the lists themselves.
import type { LapiDecision, StreamResponse } from '../core/types';
import type { DecisionSink, StreamSummary } from './stream-parser';

/** A sink that keeps every decision, and result() to turn them into a StreamResponse once the parser has ended. */
export function collectStream(): { sink: DecisionSink; result(summary: StreamSummary): StreamResponse } {
  const news: LapiDecision[] = [];
  const dels: LapiDecision[] = [];
  const push = (to: LapiDecision[], batch: LapiDecision[]): void => {
    for (let i = 0; i < batch.length; i++) to.push(batch[i]);
  };
  return {
    sink: { onDeleted: (b) => push(dels, b), onNew: (b) => push(news, b) },
    result(summary) {
      for (const b of summary.deferredNew) push(news, b);
      return {
        new: summary.newForm === 'list' ? news : null,
        deleted: summary.deletedForm === 'list' ? dels : null,
      };
    },
  };
}
