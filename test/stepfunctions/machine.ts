/**
 * Runs the SYNTHESIZED bake state machine on aws-local-stepfunctions (ASL interpreted in Node).
 *
 * Task states are bound by name to local handlers: the Lambda steps to the real evaluator handler
 * (or a stand-in), the AWS SDK integrations (codedeploy:putLifecycleEventHookExecutionStatus,
 * codedeploy:getDeployment, eventbridge:putEvents) to small fakes that behave like the services
 * (a second status report fails with LifecycleEventAlreadyCompletedException). Waits and retry
 * intervals are overridden to 0 ms; the clock the handlers see advances by the seconds each Wait
 * state would have waited, so a 10-minute bake runs in milliseconds with the real arithmetic.
 */
import { StateMachine } from 'aws-local-stepfunctions';
import type { BakeExecutionInput, BakeState } from '../../lib/core';
import { RollbackTarget, RollbackTrigger, type RollbackTriggerProps, TriggerMode } from '../../lib';
import { lambdaCanary } from '../helpers';
import { synthesizedDefinition } from './definition';

// aws-local-stepfunctions 3 uses Promise.withResolvers (Node 22); Node 20 lacks it.
const P = Promise as unknown as { withResolvers?: unknown };
P.withResolvers ??= function withResolvers<T>() {
  let resolve!: (value: T) => void;
  let reject!: (reason: unknown) => void;
  const promise = new Promise<T>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
};

/** The trigger's state machine definition, synthesized from a Lambda canary stack (`machine`: which one). */
export function bakeDefinition(props: Partial<RollbackTriggerProps> = {}, machine: 'Bake' | 'FollowUp' = 'Bake'): Record<string, unknown> {
  // Shadow mode attaches no alarm: aws-cdk-lib refuses deploymentInAlarm on a group without one.
  const shadow = props.mode === TriggerMode.SHADOW;
  const { stack, group, alias, slo } = lambdaCanary(undefined, shadow ? { autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: false } } : {});
  new RollbackTrigger(stack, 'Rollback', { target: RollbackTarget.lambdaAlias({ deploymentGroup: group, alias }), objectives: [slo], ...props });
  return synthesizedDefinition(stack, machine);
}

/**
 * aws-local-stepfunctions 3.0.0's States.JsonToString does not escape quotes inside strings
 * (`{"s":"a "b""}`), where Step Functions emits valid JSON. A Lambda error's Cause is itself JSON,
 * so the fail-closed audit detail would not parse here. The harness hands the object through
 * instead; bake-machine.test.ts asserts the real definition serializes it with JsonToString.
 */
function withoutJsonToString(definition: Record<string, unknown>): Record<string, unknown> {
  return JSON.parse(JSON.stringify(definition).replace(/"States\.JsonToString\((\$\.[A-Za-z.]+)\)"/g, '"$1"'));
}

/**
 * Step Functions resolves a Task's TimeoutSecondsPath against the state's input (developer guide,
 * "Task workflow state": "a timeout value dynamically from the state input"); aws-local-stepfunctions
 * 3.0.0 resolves it against the effective input (after Parameters). The approval gate's task reads
 * `$.approval.timeoutSeconds` from its input, which its Parameters carry as
 * `Entries[0].Detail.approval`: the harness points the path there, so the run waits what the
 * real one would. bake-machine tests assert the real definition's path.
 */
function timeoutPathsOnEffectiveInput(definition: Record<string, unknown>): Record<string, unknown> {
  const states = Object.fromEntries(
    Object.entries(definition.States as Record<string, Record<string, unknown>>).map(([name, state]) => {
      // The bake's gate asks with `$.approval`, the follow-up machine's secondary action with `$.secondary.request`.
      if (state.TimeoutSecondsPath !== '$.approval.timeoutSeconds' && state.TimeoutSecondsPath !== '$.secondary.request.timeoutSeconds') return [name, state];
      return [name, { ...state, TimeoutSecondsPath: '$.Entries[0].Detail.approval.timeoutSeconds' }];
    }),
  );
  return { ...definition, States: states };
}

/** Each Wait state becomes a Task bound to a local handler that moves the run's clock instead. */
function waitsAsTasks(definition: Record<string, unknown>): Record<string, unknown> {
  const states = Object.fromEntries(
    Object.entries(definition.States as Record<string, Record<string, unknown>>).map(([name, state]) => {
      if (state.Type !== 'Wait') return [name, state];
      const { Seconds: _s, SecondsPath: _sp, Timestamp: _t, TimestampPath: _tp, ...rest } = state;
      return [name, { ...rest, Type: 'Task', Resource: 'arn:aws:lambda:us-east-1:123456789012:function:local-wait' }];
    }),
  );
  return { ...definition, States: states };
}

/** Names of the Task states that run the evaluator Lambda. */
export function lambdaStates(definition: Record<string, unknown>): string[] {
  const states = definition.States as Record<string, { Type: string; Resource?: string }>;
  return Object.entries(states)
    .filter(([, s]) => s.Type === 'Task' && s.Resource?.startsWith('arn:aws:lambda:'))
    .map(([name]) => name);
}

export function statesOf(definition: Record<string, unknown>): Record<string, Record<string, any>> {
  return definition.States as Record<string, Record<string, any>>;
}

/** A run's clock that is another's (the fake AWS world's `now`): handlers and waits share it. */
export function clockOf(owner: { now: number }): { now(): number; advance(seconds: number): void } {
  return {
    now: () => owner.now,
    advance: (seconds) => {
      owner.now += seconds;
    },
  };
}

function ownClock(start: number): { now(): number; advance(seconds: number): void } {
  let now = start;
  return {
    now: () => now,
    advance: (seconds) => {
      now += seconds;
    },
  };
}

/** A CodeDeploy that accepts one status per hook execution, as the API does. */
export class FakeCodeDeploy {
  readonly reports: Array<{ hookId: string; status: string }> = [];
  readonly accepted = new Map<string, string>();
  /** Errors thrown by the next report calls, in order (an Error's name is Step Functions' error name). */
  reportFaults: Error[] = [];
  /** GetDeployment through the SDK integration (the fail-closed path). */
  deployment: Record<string, unknown> | Error = { DeploymentId: 'd-ABCDEFGHI', Creator: 'user', Status: 'InProgress' };
  getDeploymentCalls = 0;

  report(input: { DeploymentId: string; LifecycleEventHookExecutionId: string; Status: string }): Record<string, never> {
    this.reports.push({ hookId: input.LifecycleEventHookExecutionId, status: input.Status });
    const fault = this.reportFaults.shift();
    if (fault) throw fault;
    if (this.accepted.has(input.LifecycleEventHookExecutionId)) {
      throw sdkError('CodeDeploy.LifecycleEventAlreadyCompletedException', 'The lifecycle event is already completed');
    }
    this.accepted.set(input.LifecycleEventHookExecutionId, input.Status);
    return {};
  }

  getDeployment(): Record<string, unknown> {
    this.getDeploymentCalls++;
    if (this.deployment instanceof Error) throw this.deployment;
    return { DeploymentInfo: this.deployment };
  }
}

export function sdkError(name: string, message = name): Error {
  return Object.assign(new Error(message), { name });
}

/** The parts of aws-local-stepfunctions' event log the tests read. */
export interface ExecutionEvent {
  readonly type: string;
  readonly state?: { readonly name: string; readonly input?: unknown; readonly output?: unknown };
  readonly Error?: string;
  readonly Cause?: string;
}

export interface RunResult {
  readonly status: 'SUCCEEDED' | 'FAILED';
  readonly output?: unknown;
  readonly error?: string;
  readonly events: ExecutionEvent[];
  /** Names of the states entered, in order. */
  readonly path: string[];
  readonly auditEntries: Array<{ DetailType: string; Detail: Record<string, unknown> }>;
}

export interface RunOptions {
  readonly definition: Record<string, unknown>;
  readonly input: BakeExecutionInput;
  /** The evaluator: the real step handler or a stand-in. */
  readonly evaluate: (state: BakeState) => Promise<BakeState> | BakeState;
  readonly codedeploy?: FakeCodeDeploy;
  /** PutEvents of the fail-closed audit; throw to simulate EventBridge refusing. */
  readonly putEvents?: (input: { Entries: Array<{ DetailType: string; Detail: string }> }) => unknown;
  /** What PutEvents answers. @default every entry accepted */
  readonly putEventsResult?: { FailedEntryCount: number };
  /**
   * The clock of the run (epoch seconds), shared by the handlers and the machine's context object
   * (`$$.State.EnteredTime`). Wait states take no time here; each advances the clock by what it
   * would have waited.
   * @default a clock of its own, starting at the input's hookStartedAt
   */
  readonly clock?: { now(): number; advance(seconds: number): void };
  /**
   * The approval gate's human: gets the `Approval Requested` entry the machine sends (PutEvents,
   * `.waitForTaskToken`) and answers — a return value is SendTaskSuccess's output, a thrown error
   * SendTaskFailure (its name the error: `Rejected`), or `States.Timeout` for no answer in time.
   * @default no gate expected: the task fails the test
   */
  readonly answer?: (entry: { DetailType: string; Source: string; Detail: Record<string, any> }) => unknown;
}

/** The task token the harness's context object carries (`$$.Task.Token`). */
export const TASK_TOKEN = 'AQCEAAAAKgAAAAMAAAAAAAAAAZ-token-of-the-approval-gate';

/** Runs one execution of the synthesized machine to its end. */
export async function runMachine(options: RunOptions): Promise<RunResult> {
  const codedeploy = options.codedeploy ?? new FakeCodeDeploy();
  const clock = options.clock ?? ownClock(options.input.hookStartedAt);
  const definition = options.definition;
  const states = statesOf(definition);
  const auditEntries: RunResult['auditEntries'] = [];
  const handlers: Record<string, (input: any) => unknown> = {};
  for (const name of lambdaStates(definition)) handlers[name] = (input: BakeState) => options.evaluate(input);
  // Wait states run as local tasks that advance the run's clock by what they would have waited.
  for (const [name, state] of Object.entries(states)) {
    if (state.Type !== 'Wait') continue;
    handlers[name] = (input: Record<string, unknown>) => {
      const at = (path: string) => path.slice(2).split('.').reduce<any>((v, k) => v?.[k], input);
      if (state.Seconds !== undefined) clock.advance(state.Seconds);
      else if (state.SecondsPath) clock.advance(Number(at(state.SecondsPath)));
      else if (state.TimestampPath) clock.advance(Math.max(0, Date.parse(String(at(state.TimestampPath))) / 1000 - clock.now()));
      else throw new Error(`Wait state ${name}: unsupported form`);
      return input;
    };
  }
  for (const [name, state] of Object.entries(states)) {
    if (state.Type !== 'Task') continue;
    if (state.Resource?.endsWith(':events:putEvents.waitForTaskToken')) {
      handlers[name] = (input: { Entries: Array<{ DetailType: string; Source: string; Detail: Record<string, any> }> }) => {
        const entry = input.Entries[0];
        auditEntries.push({ DetailType: entry.DetailType, Detail: entry.Detail });
        if (!options.answer) throw new Error(`the machine asked for approval but the test gave no answer: ${JSON.stringify(entry.Detail)}`);
        return options.answer(entry);
      };
    }
    if (state.Resource?.endsWith(':codedeploy:putLifecycleEventHookExecutionStatus')) handlers[name] = (input) => codedeploy.report(input);
    if (state.Resource?.endsWith(':codedeploy:getDeployment')) handlers[name] = () => codedeploy.getDeployment();
    if (state.Resource?.endsWith(':eventbridge:putEvents')) {
      handlers[name] = (input) => {
        if (options.putEvents) options.putEvents(input);
        for (const e of input.Entries) auditEntries.push({ DetailType: e.DetailType, Detail: typeof e.Detail === 'string' ? JSON.parse(e.Detail) : e.Detail });
        return { FailedEntryCount: 0, Entries: input.Entries.map(() => ({ EventId: 'e' })), ...options.putEventsResult };
      };
    }
  }
  const retries: Record<string, number> = {};
  for (const [name, state] of Object.entries(states)) if (state.Retry) retries[name] = 0;
  const machine = new StateMachine(timeoutPathsOnEffectiveInput(waitsAsTasks(withoutJsonToString(definition))) as never, { validationOptions: { checkArn: false } });
  // The emulator keeps the context object it is given, so a getter follows the run's clock.
  const state = { Name: 'state', RetryCount: 0 };
  Object.defineProperty(state, 'EnteredTime', { enumerable: true, get: () => new Date(clock.now() * 1000).toISOString() });
  const execution = machine.run(options.input as never, {
    overrides: { taskResourceLocalHandlers: handlers as never, retryIntervalOverrides: retries },
    context: {
      Execution: { Id: 'arn:aws:states:us-east-1:123456789012:execution:bake:exec', Name: 'exec', StartTime: new Date(options.input.hookStartedAt * 1000).toISOString() },
      State: state,
      Task: { Token: TASK_TOKEN },
    } as never,
  });
  const events: ExecutionEvent[] = [];
  const path: string[] = [];
  const collect = (async () => {
    for await (const event of execution.eventLogs as AsyncGenerator<ExecutionEvent>) {
      events.push(event);
      if (event.type === 'StateEntered' && event.state) path.push(event.state.name);
    }
  })();
  try {
    const output = await execution.result;
    await collect;
    return { status: 'SUCCEEDED', output, events, path, auditEntries };
  } catch (e) {
    await collect.catch(() => undefined);
    return { status: 'FAILED', error: (e as Error).message, events, path, auditEntries };
  }
}
