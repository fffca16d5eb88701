import { RollbackTriggersError, formatSeconds } from '../core/errors';
import { type EvaluatorHeartbeat, heartbeatSilentDetectionSeconds } from '../core/heartbeat';
import type { IAlarmTrigger } from './alarm-trigger';
import { HeartbeatTrigger } from './heartbeat-trigger';

// What a RollbackTrigger hands its evaluator about the heartbeat triggers among its alarm triggers.
// Not exported from the library's index: RollbackTrigger's own wiring.

/**
 * The heartbeats the evaluator judges: every `HeartbeatTrigger` among `alarmTriggers`, checked
 * against the bake's clock. A new version that never beats is failed only after the grace,
 * `datapointsToAlarm` missing intervals and the metric delay; past the deadline the bake decides
 * inconclusive instead, so a heartbeat that cannot fail a silent release in time is refused (RT349).
 * Names key the reasons and the audit, so two heartbeats of one trigger may not share one (RT350).
 */
export function heartbeatsForEvaluator(
  path: string,
  alarmTriggers: readonly IAlarmTrigger[] | undefined,
  timing: { readonly deadlineSeconds: number; readonly metricDelaySeconds: number },
): EvaluatorHeartbeat[] {
  const heartbeats: EvaluatorHeartbeat[] = [];
  (alarmTriggers ?? []).forEach((t, i) => {
    if (!(t instanceof HeartbeatTrigger)) return;
    const h = t._heartbeat;
    const prop = `alarmTriggers[${i}]`;
    const needed = heartbeatSilentDetectionSeconds(h, timing.metricDelaySeconds);
    if (needed > timing.deadlineSeconds) {
      throw new RollbackTriggersError(
        'RT349',
        `${prop} (heartbeat ${t.node.path}) fails a silent new version only ${formatSeconds(needed)} after the release ` +
          `(grace ${formatSeconds(h.intervalSeconds * h.datapointsToAlarm)}, then ${h.datapointsToAlarm} missing intervals of ${formatSeconds(h.intervalSeconds)}, then the metric delay of ${formatSeconds(timing.metricDelaySeconds)}), ` +
          `after the bake's deadline of ${formatSeconds(timing.deadlineSeconds)} — use a shorter interval or fewer datapointsToAlarm, or keep it out of alarmTriggers (its alarm still pages)`,
        { constructPath: path, prop },
      );
    }
    const same = heartbeats.find((other) => other.name === h.name);
    if (same) {
      throw new RollbackTriggersError(
        'RT350',
        `${prop} (heartbeat ${t.node.path}) has the construct id "${h.name}" of another heartbeat of this trigger: the evaluator's reasons and the audit tell heartbeats apart by it — give them different ids`,
        { constructPath: path, prop },
      );
    }
    heartbeats.push(h);
  });
  return heartbeats;
}
