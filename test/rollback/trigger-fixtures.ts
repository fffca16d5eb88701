/**
 * What the tests of RollbackTrigger's opt-in flows (approval gate, circuit breaker, rollback
 * verification) share: a trigger on a Lambda canary, and the coded error a refused one throws.
 */
import { App, Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { expect } from 'vitest';
import { RollbackTarget, RollbackTrigger, type RollbackTriggerProps, TriggerMode } from '../../lib';
import { readPolicies } from '../../lib/cli/assembly';
import { AUDIT_EVENT_SOURCE, RollbackTriggersError, buildPlan, renderPlan } from '../../lib/core';
import { lambdaCanary } from '../helpers';

export type Props = Partial<RollbackTriggerProps>;

/** Shadow mode attaches no alarm: aws-cdk-lib refuses deploymentInAlarm on a group without one. */
const shadowGroup = { autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: false } };

export function build(props: Props = {}, f = lambdaCanary(undefined, props.mode === TriggerMode.SHADOW ? shadowGroup : {})) {
  const trigger = new RollbackTrigger(f.stack, 'Rollback', { target: RollbackTarget.lambdaAlias({ deploymentGroup: f.group, alias: f.alias }), objectives: [f.slo], ...props });
  return { ...f, trigger };
}

/** What `run` throws, which must be a coded error. */
export function refusal(run: () => unknown): RollbackTriggersError {
  try {
    run();
  } catch (e) {
    expect(e, String(e)).toBeInstanceOf(RollbackTriggersError);
    return e as RollbackTriggersError;
  }
  throw new Error('expected a RollbackTriggersError, nothing was thrown');
}

/** The code, path, prop and message of what building a trigger with `props` throws. */
export function refused(props: Props) {
  const e = refusal(() => build(props));
  return { code: e.code, constructPath: e.constructPath, prop: e.prop, message: e.message };
}

/** The detail types the notices rule (the one rule on the audit bus) sends to the topic. */
export function noticeTypes(stack: Stack): string[] {
  const rules = Object.values(Template.fromStack(stack).findResources('AWS::Events::Rule')).filter((r) => r.Properties.EventPattern.source?.[0] === AUDIT_EVENT_SOURCE);
  expect(rules).toHaveLength(1);
  return rules[0].Properties.EventPattern['detail-type'];
}

/** The plan of a trigger with `props`, as `rollback-triggers plan cdk.out` prints it: synthesized, read back from the metadata, planned. */
export function cliPlan(props: Props) {
  const app = new App();
  const f = lambdaCanary(new Stack(app, 'Shop'));
  build(props, f);
  const warnings: string[] = [];
  const [policy] = readPolicies(app.synth().directory, (w) => warnings.push(w));
  expect(warnings).toEqual([]);
  return { entry: policy.rollbackTriggers![0], text: renderPlan(buildPlan(policy)) };
}
