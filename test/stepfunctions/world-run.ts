/**
 * One execution of a synthesized bake machine against the fake AWS world of test/lambda/fixtures.ts:
 * its Lambda tasks run the world's real evaluator, its report goes through the world's CodeDeploy
 * (one status per hook), and the approval gate's task is answered by `answer` (see runMachine).
 */
import { PutLifecycleEventHookExecutionStatusCommand } from '@aws-sdk/client-codedeploy';
import { type BakeExecutionInput, MAX_DEADLINE_SECONDS } from '../../lib/core';
import { DEPLOYMENT_ID, HOOK_ID, T0, type World } from '../lambda/fixtures';
import { type RunOptions, type RunResult, runMachine } from './machine';

/** The execution input the starter builds for a trigger whose deadline is `deadlineSeconds`. */
export function gatedInput(deadlineSeconds: number): BakeExecutionInput {
  return {
    deploymentId: DEPLOYMENT_ID,
    lifecycleEventHookExecutionId: HOOK_ID,
    hookStartedAt: T0,
    deadline: new Date((T0 + deadlineSeconds) * 1000).toISOString(),
    reportBy: new Date((T0 + MAX_DEADLINE_SECONDS) * 1000).toISOString(),
  };
}

export function runInWorld(world: World, definition: Record<string, unknown>, input: BakeExecutionInput, answer?: RunOptions['answer']): Promise<RunResult> {
  return runMachine({
    definition,
    input,
    evaluate: (state) => world.handler(state),
    answer,
    clock: {
      now: () => world.now,
      advance: (s) => {
        world.now += s;
      },
    },
    codedeploy: {
      reports: [],
      report: async (p: { DeploymentId: string; LifecycleEventHookExecutionId: string; Status: string }) => {
        await world.codedeploy.send(
          new PutLifecycleEventHookExecutionStatusCommand({ deploymentId: p.DeploymentId, lifecycleEventHookExecutionId: p.LifecycleEventHookExecutionId, status: p.Status as 'Failed' }),
        );
        return {};
      },
      getDeployment: () => ({ DeploymentInfo: { Creator: 'user' } }),
    } as never,
  });
}
