import type { DeploymentPhase, DeploymentShape } from './types';

/**
 * The deployment's traffic shift, as CodeDeploy's predefined configurations run it (Canary10Percent5Minutes,
 * Linear10PercentEvery1Minute, AllAtOnce): the first step at the release, later steps every
 * interval, then AfterAllowTraffic once all traffic is on the new version.
 */
export interface ShiftStep {
  readonly name: 'canary' | 'linear-step';
  readonly fromMinute: number;
  readonly toMinute: number;
  readonly canaryShare: number;
}

export interface ShiftPlan {
  /** Steps before all traffic is on the new version (empty for all at once). */
  readonly steps: readonly ShiftStep[];
  /** Minute all traffic is on the new version: AfterAllowTraffic starts, and the bake clock with it. */
  readonly allTrafficMinute: number;
}

/**
 * - all at once: 100 % at the release;
 * - canary: `percent` from the release for `intervalMinutes`, then 100 %;
 * - linear: `percent` at the release and `percent` more every `intervalMinutes`, so 100 % is reached
 *   after ⌈100 ÷ percent⌉ − 1 intervals (10 % steps: 100 % at 9 intervals).
 */
export function shiftPlan(shape: DeploymentShape, releaseMinute: number): ShiftPlan {
  if (shape.kind === 'all-at-once') return { steps: [], allTrafficMinute: releaseMinute };
  const percent = shape.percent!;
  const interval = shape.intervalMinutes!;
  if (shape.kind === 'canary') {
    return {
      steps: [{ name: 'canary', fromMinute: releaseMinute, toMinute: releaseMinute + interval, canaryShare: percent / 100 }],
      allTrafficMinute: releaseMinute + interval,
    };
  }
  // The slack reads 33.3333333 % as a third (3 increments, not a fourth for the last 0.0000001 %).
  const increments = Math.ceil(100 / percent - 1e-6);
  const steps: ShiftStep[] = [];
  for (let j = 1; j < increments; j++) {
    steps.push({
      name: 'linear-step',
      fromMinute: releaseMinute + (j - 1) * interval,
      toMinute: releaseMinute + j * interval,
      canaryShare: Math.min(1, Number(((j * percent) / 100).toPrecision(12))),
    });
  }
  return { steps, allTrafficMinute: releaseMinute + (increments - 1) * interval };
}

/**
 * The phases as they happened: before the release, the shift steps, the bake, the wait for the
 * bake's last data, and after the decision (new version kept, or traffic back on the old one).
 */
export function phasesOf(
  plan: ShiftPlan,
  options: { firstMinute: number; releaseMinute: number; bakeMinutes: number; decisionMinute: number; rolledBack: boolean; endMinute: number },
): DeploymentPhase[] {
  const { firstMinute, releaseMinute, bakeMinutes, decisionMinute, rolledBack, endMinute } = options;
  const phases: DeploymentPhase[] = [];
  const push = (name: DeploymentPhase['name'], from: number, to: number, canaryShare: number) => {
    const end = Math.min(to, decisionMinute);
    if (end > from) phases.push({ name, fromMinute: from, toMinute: end, canaryShare });
  };
  push('before', firstMinute, releaseMinute, 0);
  for (const step of plan.steps) push(step.name, step.fromMinute, step.toMinute, step.canaryShare);
  const bakeEnd = plan.allTrafficMinute + bakeMinutes;
  push('bake', plan.allTrafficMinute, bakeEnd, 1);
  push('all-traffic', bakeEnd, decisionMinute, 1);
  const after = Math.max(endMinute, decisionMinute);
  if (after > decisionMinute) phases.push({ name: 'after', fromMinute: decisionMinute, toMinute: after, canaryShare: rolledBack ? 0 : 1 });
  return phases;
}
