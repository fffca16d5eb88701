import { execFile, execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { type IncomingMessage, type ServerResponse, createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  DescribeExecutionCommand,
  type DescribeExecutionCommandOutput,
  ExecutionDoesNotExist,
  type ExecutionListItem,
  GetExecutionHistoryCommand,
  type GetExecutionHistoryCommandInput,
  type HistoryEvent,
  InvalidToken,
  ListExecutionsCommand,
  type ListExecutionsCommandInput,
  SFNClient,
  SFNServiceException,
  SendTaskFailureCommand,
  SendTaskSuccessCommand,
  TaskDoesNotExist,
  TaskTimedOut,
} from '@aws-sdk/client-sfn';
import { ExpiredTokenException, GetCallerIdentityCommand, STSClient } from '@aws-sdk/client-sts';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { sdkApprovalAws } from '../../lib/cli/answer-command';
import { type AwsSdk, SDK_PACKAGES, type SdkLoader, type SdkPackage, loadSdk } from '../../lib/cli/aws-clients';
import { main, runCli } from '../../lib/cli/main';
import { type ApprovalRequest, approvalOutcome, approvalRequest } from '../../lib/core/approval';
import { bakeExecutionNamePrefix } from '../../lib/core/bake';

/**
 * `rollback-triggers approve` / `reject`. The SDK clients are real (the repository's devDependencies,
 * loaded as the CLI loads a user's project's SDK) with `send` replaced by aws-sdk-client-mock; the histories are shaped like what
 * GetExecutionHistory returns for the bake (Lambda tasks, then the EventBridge PutEvents
 * `.waitForTaskToken` task). The last block runs the real binary path against a local endpoint.
 */

// The SDK's notice that its later versions need Node 22 (it is emitted once per process) is noise here.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED = 'true';

const REPO = join(__dirname, '..', '..');
const REGION = 'eu-west-1';
const ACCOUNT = '123456789012';
const SM_NAME = 'BakeStateMachineCheckout5F3A2B1C-kQ8xV2nR7tYw';
const SM_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:${SM_NAME}`;
const DEPLOYMENT = 'd-7QK2M9XAB';
const CALLER = `arn:aws:sts::${ACCOUNT}:assumed-role/ReleaseManagers/alice@example.com`;
const T0 = Date.parse('2025-03-04T10:00:00Z') / 1000;

const executionArn = (name: string) => `arn:aws:states:${REGION}:${ACCOUNT}:execution:${SM_NAME}:${name}`;
const bakeName = (deploymentId: string, hash: string) => `${bakeExecutionNamePrefix(deploymentId)}${hash}`;
const EXEC_NAME = bakeName(DEPLOYMENT, '3f2a9c0d4b1e6f7a8b9c0d1e2f3a4b5c');
const EXEC_ARN = executionArn(EXEC_NAME);
/** Real task tokens are ~600-character opaque base64 strings. */
const token = (seed: string) => `AQCoAAAAKgAAAAMAAAAAAAAAA${Buffer.from(`${seed}:${'x'.repeat(60)}`).toString('base64')}==`;
const TOKEN = token('main');

const REQUEST: ApprovalRequest = (() => {
  const r = approvalRequest(
    { status: 'Succeeded', verdict: 'inconclusive', reasons: ['canary error ratio 0.41 % vs baseline 0.22 % on 1 180 requests: too few to tell'] },
    { timeoutSeconds: 900 },
    'Failed',
    T0,
    T0 + 3000,
  );
  if (!('request' in r)) throw new Error('fixture: no approval request');
  return r.request;
})();

/** The Detail the approval task sends (lib/private/bake-state-machine.ts): the audit event with the task token. */
function detail(arn: string, taskToken: string, deploymentId = DEPLOYMENT) {
  return {
    schemaVersion: 1,
    idempotencyKey: `ApprovalRequested:${deploymentId}:eyJ2ZXJzaW9uIjoiMSJ9`,
    occurredAt: '2025-03-04T09:55:00.123Z',
    deploymentId,
    lifecycleEventHookExecutionId: 'eyJ2ZXJzaW9uIjoiMSJ9',
    applicationName: 'checkout-service',
    deploymentGroupName: 'checkout-service-dg',
    verdict: 'inconclusive',
    reasons: ['canary error ratio 0.41 % vs baseline 0.22 % on 1 180 requests: too few to tell'],
    observations: [],
    approval: { question: REQUEST.question, timeoutSeconds: REQUEST.timeoutSeconds, expiresAt: REQUEST.expiresAt, onApprove: REQUEST.onApprove, onReject: REQUEST.onReject, onTimeout: REQUEST.onTimeout },
    executionArn: arn,
    taskToken,
    howToAnswer: {
      approve: `npx rollback-triggers approve --execution ${arn}`,
      reject: `npx rollback-triggers reject --execution ${arn}`,
    },
  };
}

type Ending = 'TaskSucceeded' | 'RejectedFailure' | 'TaskTimedOut' | 'TaskSubmitFailed';

interface HistoryOptions {
  readonly arn?: string;
  readonly taskToken?: string;
  readonly deploymentId?: string;
  /** Step Functions shows Detail as an object when Parameters built it as one; a string stays a string. */
  readonly detailAsString?: boolean;
  /** How the approval task ended, if it did; `false`: the bake never asked. */
  readonly ended?: Ending | false;
}

/** Chronological history of a bake: resolve (Lambda), a wait, then the approval task. */
function history(o: HistoryOptions = {}): HistoryEvent[] {
  const arn = o.arn ?? EXEC_ARN;
  let id = 0;
  const at = (s: number) => new Date((T0 - 600 + s) * 1000);
  const ev = (type: string, extra: Partial<HistoryEvent> = {}): HistoryEvent => ({ id: ++id, previousEventId: id - 1, timestamp: at(id * 20), type, ...extra }) as HistoryEvent;
  const lambda = { resourceType: 'lambda', resource: 'invoke' };
  const events = [
    ev('ExecutionStarted', { previousEventId: 0, executionStartedEventDetails: { input: JSON.stringify({ deploymentId: o.deploymentId ?? DEPLOYMENT }), roleArn: `arn:aws:iam::${ACCOUNT}:role/BakeRole` } }),
    ev('TaskStateEntered', { stateEnteredEventDetails: { name: 'Resolve', input: '{}' } }),
    ev('TaskScheduled', {
      taskScheduledEventDetails: { ...lambda, region: REGION, parameters: JSON.stringify({ FunctionName: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:Evaluator`, Payload: { phase: 'resolve' } }), timeoutInSeconds: 60 },
    }),
    ev('TaskStarted', { taskStartedEventDetails: lambda }),
    ev('TaskSucceeded', { taskSucceededEventDetails: { ...lambda, output: '{"Payload":{"phase":"tick"}}' } }),
    ev('TaskStateExited', { stateExitedEventDetails: { name: 'Resolve', output: '{}' } }),
    ev('WaitStateEntered', { stateEnteredEventDetails: { name: 'WaitMinute', input: '{}' } }),
    ev('WaitStateExited', { stateExitedEventDetails: { name: 'WaitMinute', output: '{}' } }),
  ];
  if (o.ended === false) return events;
  const d = detail(arn, o.taskToken ?? TOKEN, o.deploymentId);
  const entry = { Detail: o.detailAsString ? JSON.stringify(d) : d, DetailType: 'Approval Requested', EventBusName: `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/rollback-triggers-audit`, Source: 'rollback-triggers' };
  const events2 = { resourceType: 'events', resource: 'putEvents.waitForTaskToken' };
  events.push(
    ev('TaskStateEntered', { stateEnteredEventDetails: { name: 'AskForApproval', input: '{}' } }),
    ev('TaskScheduled', { taskScheduledEventDetails: { ...events2, region: REGION, parameters: JSON.stringify({ Entries: [entry] }), timeoutInSeconds: REQUEST.timeoutSeconds } }),
    ev('TaskStarted', { taskStartedEventDetails: events2 }),
    ev('TaskSubmitted', { taskSubmittedEventDetails: { ...events2, output: '{"Entries":[{"EventId":"6f1c2b7e-0d3a-4c55-9a8e-2f4b1d0c9e77"}],"FailedEntryCount":0}' } }),
  );
  if (o.ended === 'TaskSucceeded') events.push(ev('TaskSucceeded', { taskSucceededEventDetails: { ...events2, output: '{"approvedBy":"bob"}' } }));
  if (o.ended === 'RejectedFailure') events.push(ev('TaskFailed', { taskFailedEventDetails: { ...events2, error: 'Rejected', cause: '{"approvedBy":"bob"}' } }));
  if (o.ended === 'TaskTimedOut') events.push(ev('TaskTimedOut', { taskTimedOutEventDetails: { ...events2, error: 'States.Timeout' } }));
  if (o.ended === 'TaskSubmitFailed') events.push(ev('TaskSubmitFailed', { taskSubmitFailedEventDetails: { ...events2, error: 'EventBridge.AccessDeniedException', cause: 'not authorized' } }));
  if (o.ended) {
    events.push(ev('TaskStateExited', { stateExitedEventDetails: { name: 'AskForApproval', output: '{}' } }));
    // The bake goes on reporting: a Lambda task after the answer.
    events.push(ev('TaskStateEntered', { stateEnteredEventDetails: { name: 'Report', input: '{}' } }));
    events.push(ev('TaskScheduled', { taskScheduledEventDetails: { ...lambda, region: REGION, parameters: '{"FunctionName":"Evaluator","Payload":{}}' } }));
  }
  return events;
}

const sfn = mockClient(SFNClient);
const sts = mockClient(STSClient);
let regions: string[];

/** Serves GetExecutionHistory in pages of 4, newest first when asked, as Step Functions does. */
function serveHistories(byArn: Record<string, HistoryEvent[]>): void {
  sfn.on(GetExecutionHistoryCommand).callsFake((input: GetExecutionHistoryCommandInput) => {
    const all = byArn[input.executionArn!];
    if (!all) throw new ExecutionDoesNotExist({ $metadata: {}, message: `Execution Does Not Exist: '${input.executionArn}'` });
    const events = input.reverseOrder ? [...all].reverse() : all;
    const start = input.nextToken ? Number(input.nextToken.split(':')[1]) : 0;
    const end = start + 4;
    return { events: events.slice(start, end), nextToken: end < events.length ? `page:${end}` : undefined };
  });
}

function describeAs(status: DescribeExecutionCommandOutput['status'], arn = EXEC_ARN): void {
  sfn.on(DescribeExecutionCommand, { executionArn: arn }).resolves({
    executionArn: arn,
    stateMachineArn: SM_ARN,
    name: arn.split(':').pop(),
    status,
    startDate: new Date((T0 - 600) * 1000),
    ...(status === 'RUNNING' ? {} : { stopDate: new Date((T0 + 120) * 1000) }),
    $metadata: {},
  });
}

/** ListExecutions in pages of 2, as the service pages (nextToken). */
function serveRunning(items: ExecutionListItem[]): void {
  sfn.on(ListExecutionsCommand).callsFake((input: ListExecutionsCommandInput) => {
    const start = input.nextToken ? Number(input.nextToken) : 0;
    return { executions: items.slice(start, start + 2), nextToken: start + 2 < items.length ? String(start + 2) : undefined };
  });
}

const listItem = (name: string): ExecutionListItem => ({ executionArn: executionArn(name), stateMachineArn: SM_ARN, name, status: 'RUNNING', startDate: new Date(T0 * 1000) });

async function run(args: string[]) {
  const out: string[] = [];
  const err: string[] = [];
  const aws = (region: string) => {
    regions.push(region);
    return sdkApprovalAws(loadSdk(), region);
  };
  const code = await runCli(args, (s) => out.push(s), (s) => err.push(s), aws);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

const sent = () => ({ success: sfn.commandCalls(SendTaskSuccessCommand).map((c) => c.args[0].input), failure: sfn.commandCalls(SendTaskFailureCommand).map((c) => c.args[0].input) });

beforeEach(() => {
  sfn.reset();
  sts.reset();
  regions = [];
  sts.on(GetCallerIdentityCommand).resolves({ Arn: CALLER, Account: ACCOUNT, UserId: 'AROAEXAMPLEID:alice@example.com', $metadata: {} });
  sfn.on(SendTaskSuccessCommand).resolves({ $metadata: {} });
  sfn.on(SendTaskFailureCommand).resolves({ $metadata: {} });
});

describe('rollback-triggers approve / reject', () => {
  it('approve --execution sends SendTaskSuccess with the token and the answer', async () => {
    describeAs('RUNNING');
    serveHistories({ [EXEC_ARN]: history() });
    const r = await run(['approve', '--execution', EXEC_ARN, '--by', 'alice', '--reason', 'baseline noisy, canary fine']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const answer = { approvedBy: 'alice', callerIdentity: CALLER, reason: 'baseline noisy, canary fine' };
    expect(sent()).toEqual({ success: [{ taskToken: TOKEN, output: JSON.stringify(answer) }], failure: [] });
    expect(regions).toEqual([REGION]);
    expect(sfn.commandCalls(GetExecutionHistoryCommand)[0].args[0].input).toMatchObject({ executionArn: EXEC_ARN, reverseOrder: true });
    expect(r.out.split('\n')).toHaveLength(1);
    expect(r.out).toContain(`Approved deployment ${DEPLOYMENT} (execution ${EXEC_ARN}) by alice as ${CALLER}`);
    expect(r.out).toContain('sent SendTaskSuccess');
    expect(r.out).toContain(`Question answered: "${REQUEST.question}"`);
    expect(r.out).toMatch(/The release will now report Succeeded\.$/);
    // What the state machine makes of it: the gate's own reading of the output.
    expect(approvalOutcome({ ...REQUEST, answer: JSON.parse(sent().success[0].output!) })).toMatchObject({ result: 'approved', status: 'Succeeded', answeredBy: CALLER });
  });

  it('reject sends SendTaskFailure with error "Rejected" and the answer as its cause', async () => {
    describeAs('RUNNING');
    serveHistories({ [EXEC_ARN]: history() });
    const r = await run(['reject', '--execution', EXEC_ARN, '--reason', 'error budget already spent']);
    expect(r.code).toBe(0);
    const cause = JSON.stringify({ callerIdentity: CALLER, reason: 'error budget already spent' });
    expect(sent()).toEqual({ success: [], failure: [{ taskToken: TOKEN, error: 'Rejected', cause }] });
    expect(r.out).toContain('sent SendTaskFailure (error "Rejected")');
    expect(r.out).toMatch(/The release will now report Failed\.$/);
    expect(approvalOutcome({ ...REQUEST, error: { Error: 'Rejected', Cause: cause } })).toMatchObject({ result: 'rejected', status: 'Failed', answeredBy: CALLER });
  });

  it.each([
    ['an object', false],
    ['a JSON string', true],
  ])('reads the token when the history shows Detail as %s', async (_, detailAsString) => {
    describeAs('RUNNING');
    serveHistories({ [EXEC_ARN]: history({ detailAsString, taskToken: token(`detail-${detailAsString}`) }) });
    const r = await run(['approve', '--execution', EXEC_ARN]);
    expect(r.code).toBe(0);
    expect(sent().success).toEqual([{ taskToken: token(`detail-${detailAsString}`), output: JSON.stringify({ callerIdentity: CALLER }) }]);
    expect(r.out).toContain(REQUEST.question);
  });

  it('--deployment finds the waiting bake among the running executions by name prefix (paginated)', async () => {
    const other = bakeName('d-OTHER1234', 'aa'.repeat(16));
    const answered = bakeName(DEPLOYMENT, 'bb'.repeat(16));
    const similar = bakeName('d-7QK2M9XAC', 'cc'.repeat(16));
    serveRunning([other, answered, similar, EXEC_NAME].map(listItem));
    serveHistories({
      [executionArn(answered)]: history({ arn: executionArn(answered), taskToken: token('answered'), ended: 'TaskSucceeded' }),
      [EXEC_ARN]: history(),
    });
    const r = await run(['approve', '--deployment', DEPLOYMENT, '--state-machine', SM_ARN, '--by', 'alice']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    expect(sent().success).toEqual([{ taskToken: TOKEN, output: JSON.stringify({ approvedBy: 'alice', callerIdentity: CALLER }) }]);
    expect(sfn.commandCalls(ListExecutionsCommand).map((c) => c.args[0].input)).toEqual([
      expect.objectContaining({ stateMachineArn: SM_ARN, statusFilter: 'RUNNING', nextToken: undefined }),
      expect.objectContaining({ stateMachineArn: SM_ARN, statusFilter: 'RUNNING', nextToken: '2' }),
    ]);
    // Only this deployment's executions were read.
    expect(new Set(sfn.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input.executionArn))).toEqual(new Set([executionArn(answered), EXEC_ARN]));
    expect(r.out).toContain(`deployment ${DEPLOYMENT} (execution ${EXEC_ARN})`);
  });

  it('--deployment with two bakes waiting lists them and asks for --execution', async () => {
    const second = bakeName(DEPLOYMENT, 'dd'.repeat(16));
    serveRunning([EXEC_NAME, second].map(listItem));
    serveHistories({ [EXEC_ARN]: history(), [executionArn(second)]: history({ arn: executionArn(second), taskToken: token('second') }) });
    const r = await run(['reject', '--deployment', DEPLOYMENT, '--state-machine', SM_ARN]);
    expect(r.code).toBe(1);
    expect(r.err).toContain(`2 bakes of deployment ${DEPLOYMENT} are waiting for an answer; choose one with --execution:`);
    expect(r.err).toContain(`--execution ${EXEC_ARN}`);
    expect(r.err).toContain(`--execution ${executionArn(second)}`);
    expect(sent()).toEqual({ success: [], failure: [] });
  });

  it('--deployment without a running bake says so', async () => {
    serveRunning([listItem(bakeName('d-OTHER1234', 'aa'.repeat(16)))]);
    const r = await run(['approve', '--deployment', DEPLOYMENT, '--state-machine', SM_ARN]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(
      `no running bake of deployment ${DEPLOYMENT} in ${SM_ARN} (no RUNNING execution named "${DEPLOYMENT}-…" or "secondary-${DEPLOYMENT}"): it has ended, or it runs in another state machine`,
    );
    expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(0);
  });

  it('--deployment of a failed rollback finds its secondary action on the follow-up machine', async () => {
    serveRunning([listItem(bakeName('d-OTHER1234', 'aa'.repeat(16))), listItem(`secondary-${DEPLOYMENT}`)]);
    const r = await run(['approve', '--deployment', DEPLOYMENT, '--state-machine', SM_ARN]);
    // It reads that execution's history for the task token (the served history of this file's fake).
    expect(sfn.commandCalls(GetExecutionHistoryCommand).map((c) => c.args[0].input.executionArn)).toEqual([expect.stringMatching(new RegExp(`:secondary-${DEPLOYMENT}$`))]);
    expect(r.code).not.toBe(2);
  });

  it.each([
    ['TaskSucceeded', 'was approved at'],
    ['RejectedFailure', 'was rejected at'],
    ['TaskTimedOut', 'timed out without an answer at'],
    ['TaskSubmitFailed', 'ended with TaskSubmitFailed (EventBridge.AccessDeniedException) at'],
  ] as const)('nothing waiting: the question already ended (%s) → exit 1, nothing sent', async (ended, says) => {
    describeAs('RUNNING');
    serveHistories({ [EXEC_ARN]: history({ ended }) });
    const r = await run(['approve', '--execution', EXEC_ARN]);
    expect(r.code).toBe(1);
    expect(r.err).toMatch(new RegExp(`^${escape(`nothing is waiting for an answer in ${EXEC_ARN}: its approval question ${says} `)}2025-03-04T[\\d:.]+Z$`));
    expect(sent()).toEqual({ success: [], failure: [] });
    expect(sts.commandCalls(GetCallerIdentityCommand)).toHaveLength(0);
  });

  it('nothing waiting: the bake never asked', async () => {
    describeAs('RUNNING');
    serveHistories({ [EXEC_ARN]: history({ ended: false }) });
    const r = await run(['reject', '--execution', EXEC_ARN]);
    expect(r.code).toBe(1);
    expect(r.err).toContain('its bake has not asked for approval');
    expect(sent()).toEqual({ success: [], failure: [] });
  });

  it('an execution that is not running: exit 1 before reading its history', async () => {
    describeAs('SUCCEEDED');
    serveHistories({ [EXEC_ARN]: history() });
    const r = await run(['approve', '--execution', EXEC_ARN]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`execution ${EXEC_ARN} is SUCCEEDED since 2025-03-04T10:02:00.000Z, not RUNNING: nothing is waiting for an answer`);
    expect(sfn.commandCalls(GetExecutionHistoryCommand)).toHaveLength(0);
    expect(sent()).toEqual({ success: [], failure: [] });
  });

  it('an execution that does not exist', async () => {
    sfn.on(DescribeExecutionCommand).rejects(new ExecutionDoesNotExist({ $metadata: {}, message: `Execution Does Not Exist: '${EXEC_ARN}'` }));
    const r = await run(['approve', '--execution', EXEC_ARN]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(`${EXEC_ARN} does not exist (ExecutionDoesNotExist): check the ARN, the account and --region`);
  });

  it.each([
    [
      new TaskTimedOut({ $metadata: {}, message: "Task Timed Out: 'Provided task does not exist anymore'" }),
      `SendTaskSuccess came too late (TaskTimedOut): the question in ${EXEC_ARN} is closed — it expired at ${REQUEST.expiresAt}, was answered meanwhile, or the execution ended; unanswered, the release reports Failed`,
    ],
    [new TaskDoesNotExist({ $metadata: {}, message: 'Task Does Not Exist' }), `SendTaskSuccess: Step Functions has no task for the token (TaskDoesNotExist): the execution ${EXEC_ARN} ended or its task was closed`],
    [new InvalidToken({ $metadata: {}, message: 'Invalid Token' }), `SendTaskSuccess: Step Functions refused the task token read from the history of ${EXEC_ARN} (InvalidToken: Invalid Token)`],
    [
      new SFNServiceException({ name: 'AccessDeniedException', $fault: 'client', $metadata: {}, message: `User: ${CALLER} is not authorized to perform: states:SendTaskSuccess` }),
      `not allowed to call states:SendTaskSuccess on ${EXEC_ARN} (AccessDeniedException: User: ${CALLER} is not authorized to perform: states:SendTaskSuccess): the caller needs states:SendTaskSuccess`,
    ],
  ])('SendTaskSuccess refused (%s): a clear message, exit 1', async (error, message) => {
    describeAs('RUNNING');
    serveHistories({ [EXEC_ARN]: history() });
    sfn.on(SendTaskSuccessCommand).rejects(error);
    const r = await run(['approve', '--execution', EXEC_ARN]);
    expect(r.code).toBe(1);
    expect(r.err).toBe(message);
    expect(r.out).toBe('');
  });

  it('answers without callerIdentity when STS fails, with a warning', async () => {
    describeAs('RUNNING');
    serveHistories({ [EXEC_ARN]: history() });
    sts.on(GetCallerIdentityCommand).rejects(new ExpiredTokenException({ $metadata: {}, message: 'The security token included in the request is expired' }));
    const r = await run(['approve', '--execution', EXEC_ARN, '--by', 'alice']);
    expect(r.code).toBe(0);
    expect(r.err).toBe(
      'warning: could not read the caller identity (STS GetCallerIdentity: ExpiredTokenException: The security token included in the request is expired); the answer goes without callerIdentity',
    );
    expect(sent().success).toEqual([{ taskToken: TOKEN, output: '{"approvedBy":"alice"}' }]);
    expect(r.out).toContain('by alice: sent SendTaskSuccess');
  });

  it('--region overrides the region in the ARN', async () => {
    describeAs('RUNNING');
    serveHistories({ [EXEC_ARN]: history() });
    expect((await run(['approve', '--execution', EXEC_ARN, '--region', 'eu-central-1'])).code).toBe(0);
    expect(regions).toEqual(['eu-central-1']);
  });

  it.each([
    [['--execution', EXEC_ARN, '--deployment', DEPLOYMENT], /^--execution and --deployment both given/],
    [['--deployment', DEPLOYMENT], /^--deployment needs --state-machine ARN/],
    [['--execution', EXEC_ARN, '--state-machine', SM_ARN], /^--state-machine goes with --deployment/],
    [[], /^approve needs the execution: --execution ARN, or --deployment ID with --state-machine ARN/],
    [['--execution', `arn:aws:states:${REGION}:12345:execution:${SM_NAME}:x`], /^--execution must be a Step Functions execution ARN, arn:aws:states:REGION:ACCOUNT:execution:STATE-MACHINE:NAME, got "arn:aws:states:eu-west-1:12345:/],
    [['--execution', SM_ARN], /^--execution must be .*: that is a state machine; give the execution/],
    [['--execution', 'd-7QK2M9XAB'], /^--execution must be a Step Functions execution ARN.*got "d-7QK2M9XAB"/],
    [['--deployment', DEPLOYMENT, '--state-machine', EXEC_ARN], /^--state-machine must be a Step Functions state machine ARN.*: that is an execution/],
    [['--deployment', '7QK2M9XAB', '--state-machine', SM_ARN], /^--deployment must be a CodeDeploy deployment id, "d-" and 9 letters or digits \(d-A1B2C3D4E\), got "7QK2M9XAB"/],
    [['--execution', EXEC_ARN, '--region', 'Ireland'], /^--region must be an AWS region such as us-east-1, got "Ireland"/],
    [['--execution', EXEC_ARN, '--reason', 'x'.repeat(257)], /^--reason is at most 256 characters \(the audit keeps no more\), got 257/],
    [['--execution', EXEC_ARN, '--execution', EXEC_ARN], /^--execution is given twice/],
    [['--execution'], /^--execution needs a value \(ARN\)/],
    [['--token', TOKEN], /^unknown option --token/],
    [[EXEC_ARN], /^approve takes only flags, got arn:/],
  ])('bad flags %j → exit 2 naming the flag, no AWS call', async (args, message) => {
    const r = await run(['approve', ...args]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(r.err).toMatch(/\(RT712\)\n\nUsage: rollback-triggers approve --execution ARN/);
    expect(regions).toEqual([]);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('--help for each command, and the top-level usage lists them', async () => {
    for (const kind of ['approve', 'reject']) {
      const r = await run([kind, '--help']);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(new RegExp(`^Usage: rollback-triggers ${kind} --execution ARN \\[options\\]\\n\\s+rollback-triggers ${kind} --deployment ID --state-machine ARN`));
      expect(r.out).toContain(kind === 'approve' ? 'states:SendTaskSuccess' : 'states:SendTaskFailure');
    }
    const top: string[] = [];
    expect(main(['--help'], (s) => top.push(s))).toBe(0);
    expect(top.join('\n')).toMatch(/rollback-triggers approve\|reject \(--execution ARN \| --deployment ID --state-machine ARN\)/);
    expect(top.join('\n')).toMatch(/\n {2}approve {3}.*\n {2}reject {4}/);
    expect(regions).toEqual([]);
  });
});

describe('--close-breaker: the answer also closes the circuit breaker', () => {
  it('approve --close-breaker puts closeBreaker: true in the SendTaskSuccess output, which the gate reads back', async () => {
    describeAs('RUNNING');
    serveHistories({ [EXEC_ARN]: history() });
    const r = await run(['approve', '--execution', EXEC_ARN, '--by', 'alice', '--reason', 'config fixed', '--close-breaker']);
    expect(r.err).toBe('');
    expect(r.code).toBe(0);
    const output = JSON.stringify({ approvedBy: 'alice', callerIdentity: CALLER, reason: 'config fixed', closeBreaker: true });
    expect(sent()).toEqual({ success: [{ taskToken: TOKEN, output }], failure: [] });
    expect(approvalOutcome({ ...REQUEST, answer: JSON.parse(output) })).toMatchObject({ result: 'approved', status: 'Succeeded', closeBreaker: true });
  });

  it('reject --close-breaker puts closeBreaker: true in the SendTaskFailure cause, which the gate reads back', async () => {
    describeAs('RUNNING');
    serveHistories({ [EXEC_ARN]: history() });
    const r = await run(['reject', '--execution', EXEC_ARN, '--close-breaker']);
    expect(r.code).toBe(0);
    const cause = JSON.stringify({ callerIdentity: CALLER, closeBreaker: true });
    expect(sent()).toEqual({ success: [], failure: [{ taskToken: TOKEN, error: 'Rejected', cause }] });
    expect(approvalOutcome({ ...REQUEST, error: { Error: 'Rejected', Cause: cause } })).toMatchObject({ result: 'rejected', status: 'Failed', closeBreaker: true });
  });

  it('--close-breaker with --deployment, before the other flags', async () => {
    serveRunning([listItem(EXEC_NAME)]);
    serveHistories({ [EXEC_ARN]: history() });
    const r = await run(['approve', '--close-breaker', '--deployment', DEPLOYMENT, '--state-machine', SM_ARN]);
    expect(r.code).toBe(0);
    expect(JSON.parse(sent().success[0].output!)).toEqual({ callerIdentity: CALLER, closeBreaker: true });
  });

  it.each(['approve', 'reject'])('%s without the flag sends no closeBreaker at all', async (kind) => {
    describeAs('RUNNING');
    serveHistories({ [EXEC_ARN]: history() });
    const r = await run([kind, '--execution', EXEC_ARN, '--by', 'alice']);
    expect(r.code).toBe(0);
    const { success, failure } = sent();
    const text = kind === 'approve' ? success[0].output! : failure[0].cause!;
    expect(JSON.parse(text)).toEqual({ approvedBy: 'alice', callerIdentity: CALLER });
    expect(text).not.toContain('closeBreaker');
    const outcome = kind === 'approve' ? approvalOutcome({ ...REQUEST, answer: JSON.parse(text) }) : approvalOutcome({ ...REQUEST, error: { Error: 'Rejected', Cause: text } });
    expect(outcome.closeBreaker).toBeFalsy();
  });

  it.each([
    [['--close-breaker=yes'], /^--close-breaker takes no value, got --close-breaker=yes \(RT712\)/],
    [['--close-breaker', 'true'], /^approve takes only flags, got true/],
  ])('--close-breaker takes no value: %j → exit 2, nothing sent', async (args, message) => {
    const r = await run(['approve', '--execution', EXEC_ARN, ...args]);
    expect(r.code).toBe(2);
    expect(r.err).toMatch(message);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('--help of approve and reject mentions --close-breaker', async () => {
    for (const kind of ['approve', 'reject']) {
      const r = await run([kind, '--help']);
      expect(r.code).toBe(0);
      expect(r.out).toMatch(/\n {4}--close-breaker {9}also close the trigger's circuit breaker/);
    }
    expect(regions).toEqual([]);
  });
});

describe('the AWS SDK, loaded from the project (lib/cli/aws-clients.ts)', () => {
  /** Loads from this repository's node_modules, as the CLI would from a user's project, except `missing`. */
  const loaderWithout =
    (...missing: SdkPackage[]): SdkLoader =>
    (name) => {
      if (missing.includes(name)) throw Object.assign(new Error(`Cannot find module '${name}'\nRequire stack:\n- main.js`), { code: 'MODULE_NOT_FOUND' });
      return { exports: require(name) as unknown, version: (require(`${name}/package.json`) as { version: string }).version };
    };

  async function runWith(load: SdkLoader, args: string[]) {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runCli(args, (s) => out.push(s), (s) => err.push(s), (region) => sdkApprovalAws(loadSdk(load), region));
    return { code, out: out.join('\n'), err: err.join('\n') };
  }

  it("loads the project's own SFN and STS clients, the constructors the commands use", async () => {
    const sdk = loadSdk();
    const names: (keyof AwsSdk)[] = [
      'SFNClient',
      'DescribeExecutionCommand',
      'GetExecutionHistoryCommand',
      'ListExecutionsCommand',
      'SendTaskSuccessCommand',
      'SendTaskFailureCommand',
      'STSClient',
      'GetCallerIdentityCommand',
    ];
    for (const name of names) expect(typeof sdk[name], name).toBe('function');
    // The installed package's classes, not copies: what the project configured (and mocked here) is what runs.
    expect(sdk.SFNClient).toBe(SFNClient);
    expect(sdk.STSClient).toBe(STSClient);
    expect(sdk.SendTaskFailureCommand).toBe(SendTaskFailureCommand);
    const client = new sdk.SFNClient({ region: 'ap-southeast-2' });
    expect(await client.config.region()).toBe('ap-southeast-2');
  });

  it('without the SDK, says which package is missing and the npm install command, exits 2 and calls nothing', async () => {
    sfn.reset();
    sts.reset();
    const r = await runWith(loaderWithout('@aws-sdk/client-sts'), ['approve', '--execution', EXEC_ARN]);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toBe(
      'approve and reject need the AWS SDK for JavaScript v3 from your project (the package does not ship it): ' +
        "@aws-sdk/client-sts could not be loaded (Cannot find module '@aws-sdk/client-sts'). " +
        'Install it in your project with "npm install @aws-sdk/client-sts@3"; nothing was sent',
    );
    expect(sfn.calls()).toHaveLength(0);
    expect(sts.calls()).toHaveLength(0);

    const neither = await runWith(loaderWithout(...SDK_PACKAGES), ['reject', '--deployment', DEPLOYMENT, '--state-machine', SM_ARN]);
    expect(neither.code).toBe(2);
    expect(neither.err).toMatch(/@aws-sdk\/client-sfn could not be loaded .*; @aws-sdk\/client-sts could not be loaded .*Install them in your project with "npm install @aws-sdk\/client-sfn@3 @aws-sdk\/client-sts@3"; nothing was sent$/);
    expect(sfn.calls()).toHaveLength(0);
  });

  it('refuses an SDK of another major version, naming the install command', async () => {
    const old: SdkLoader = (name) => ({ ...loaderWithout()(name), version: name === '@aws-sdk/client-sfn' ? '1.0.0-rc.10' : '3.1164.0' });
    const r = await runWith(old, ['approve', '--execution', EXEC_ARN]);
    expect(r.code).toBe(2);
    expect(r.err).toContain('@aws-sdk/client-sfn is version 1.0.0-rc.10, and the commands need 3.x. Install it in your project with "npm install @aws-sdk/client-sfn@3"');
    expect(sfn.calls()).toHaveLength(0);
  });

  it('usage errors and --help need no SDK', async () => {
    const help = await runWith(loaderWithout(...SDK_PACKAGES), ['approve', '--help']);
    expect(help.code).toBe(0);
    expect(help.out).toContain('npm install @aws-sdk/client-sfn@3 @aws-sdk/client-sts@3');
    const bad = await runWith(loaderWithout(...SDK_PACKAGES), ['approve']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/^approve needs the execution/);
  });

  it('plan and simulate never load it, nor any AWS SDK', () => {
    const script = `
      const { main } = require('./lib/cli/main.ts');
      main(['--help'], () => {});
      main(['simulate', '--help'], () => {});
      main(['plan', 'no-such-dir'], () => {}, () => {});
      const loaded = Object.keys(require.cache).filter((k) => /@aws-sdk|@smithy/.test(k));
      process.stdout.write(JSON.stringify(loaded));`;
    const out = execFileSync(process.execPath, ['--require', 'tsx/cjs', '-e', script], { cwd: REPO, encoding: 'utf8' });
    expect(JSON.parse(out)).toEqual([]);
  });
});

/**
 * The binary's own path: lib/cli/main.ts under tsx requires the SDK lazily from node_modules, and it
 * calls a local endpoint (AWS_ENDPOINT_URL) with static credentials. A preload refuses every DNS
 * lookup, so nothing can reach AWS even if the endpoint setting were ignored.
 */
describe("rollback-triggers approve through the project's SDK", () => {
  let dir: string;
  let server: ReturnType<typeof createServer>;
  let endpoint: string;
  const requests: { target: string; body: string }[] = [];

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), 'rt-approve-'));
    writeFileSync(
      join(dir, 'no-dns.cjs'),
      `const dns = require('node:dns');
       const refuse = (host, ...rest) => { const cb = rest.pop(); process.nextTick(cb, Object.assign(new Error('DNS refused in test: ' + host), { code: 'ENOTFOUND' })); };
       dns.lookup = refuse;
       dns.promises.lookup = async (host) => { throw Object.assign(new Error('DNS refused in test: ' + host), { code: 'ENOTFOUND' }); };`,
    );
    server = createServer((req, res) => void answerLocally(req, res));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    endpoint = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  async function answerLocally(req: IncomingMessage, res: ServerResponse): Promise<void> {
    let body = '';
    for await (const chunk of req) body += chunk;
    const target = String(req.headers['x-amz-target'] ?? new URLSearchParams(body).get('Action'));
    requests.push({ target, body });
    const json = (o: unknown) => res.writeHead(200, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(o));
    const epoch = (e: HistoryEvent) => ({ ...e, timestamp: e.timestamp!.getTime() / 1000 });
    if (target === 'AWSStepFunctions.DescribeExecution') json({ executionArn: EXEC_ARN, stateMachineArn: SM_ARN, name: EXEC_NAME, status: 'RUNNING', startDate: T0 });
    else if (target === 'AWSStepFunctions.GetExecutionHistory') json({ events: history({ detailAsString: true }).reverse().map(epoch) });
    else if (target === 'AWSStepFunctions.SendTaskSuccess') json({});
    else if (target === 'GetCallerIdentity') {
      res.writeHead(200, { 'content-type': 'text/xml' }).end(
        `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult><Arn>${CALLER}</Arn><UserId>AROAEXAMPLEID:alice</UserId><Account>${ACCOUNT}</Account></GetCallerIdentityResult><ResponseMetadata><RequestId>0c1f</RequestId></ResponseMetadata></GetCallerIdentityResponse>`,
      );
    } else res.writeHead(400, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify({ __type: 'UnknownOperationException', message: target }));
  }

  it('finds the token, reads the caller and sends the answer', async () => {
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: dir,
      AWS_ENDPOINT_URL: endpoint,
      AWS_ACCESS_KEY_ID: 'AKIAIOSFODNN7EXAMPLE',
      AWS_SECRET_ACCESS_KEY: 'wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY',
      AWS_CONFIG_FILE: join(dir, 'none'),
      AWS_SHARED_CREDENTIALS_FILE: join(dir, 'none'),
      AWS_EC2_METADATA_DISABLED: 'true',
    };
    const args = ['--require', 'tsx/cjs', '--require', join(dir, 'no-dns.cjs'), 'lib/cli/main.ts', 'approve', '--execution', EXEC_ARN, '--by', 'alice'];
    const { code, stdout, stderr } = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
      execFile(process.execPath, args, { cwd: REPO, env, encoding: 'utf8' }, (e, stdout, stderr) => resolve({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, stdout, stderr }));
    });
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toContain(`Approved deployment ${DEPLOYMENT} (execution ${EXEC_ARN}) by alice as ${CALLER}: sent SendTaskSuccess.`);
    expect(requests.map((r) => r.target)).toEqual(['AWSStepFunctions.DescribeExecution', 'AWSStepFunctions.GetExecutionHistory', 'GetCallerIdentity', 'AWSStepFunctions.SendTaskSuccess']);
    expect(JSON.parse(requests[3].body)).toEqual({ taskToken: TOKEN, output: JSON.stringify({ approvedBy: 'alice', callerIdentity: CALLER }) });
  });
});
