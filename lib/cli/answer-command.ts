import type {
  DescribeExecutionCommandInput,
  DescribeExecutionCommandOutput,
  ExecutionListItem,
  GetExecutionHistoryCommandInput,
  GetExecutionHistoryCommandOutput,
  HistoryEvent,
  ListExecutionsCommandInput,
  ListExecutionsCommandOutput,
  SendTaskFailureCommandInput,
  SendTaskSuccessCommandInput,
} from '@aws-sdk/client-sfn';
import type { GetCallerIdentityCommandOutput } from '@aws-sdk/client-sts';
import { APPROVAL_REJECTED_ERROR, type ApprovalAnswer, MAX_ANSWER_FIELD } from '../core/approval';
import { bakeExecutionNamePrefix } from '../core/bake';
import { secondaryExecutionName } from '../core/follow-up';
import { DEPLOYMENT_ID_PATTERN } from '../core/handler-events';
import { type AwsSdk, SDK_PACKAGES, SdkUnavailableError, installCommand, loadSdk } from './aws-clients';
import { FlagSpec, parseFlags } from './flags';
import { InputError, flagError } from './input-error';

/**
 * `rollback-triggers approve` and `reject`: answer the approval gate's pending question (the bake
 * state machine's EventBridge PutEvents `.waitForTaskToken` task) with SendTaskSuccess or
 * SendTaskFailure. The task token is read from the execution history, so the caller needs only
 * the execution (or the deployment and the state machine), never the token itself.
 */

export type AnswerKind = 'approve' | 'reject';

/** The AWS calls approve and reject make; tests build it from SDK clients mocked with aws-sdk-client-mock. */
export interface ApprovalAws {
  describeExecution(input: DescribeExecutionCommandInput): Promise<DescribeExecutionCommandOutput>;
  listExecutions(input: ListExecutionsCommandInput): Promise<ListExecutionsCommandOutput>;
  getExecutionHistory(input: GetExecutionHistoryCommandInput): Promise<GetExecutionHistoryCommandOutput>;
  sendTaskSuccess(input: SendTaskSuccessCommandInput): Promise<unknown>;
  sendTaskFailure(input: SendTaskFailureCommandInput): Promise<unknown>;
  getCallerIdentity(): Promise<GetCallerIdentityCommandOutput>;
}

/** Makes the calls for one region; the default loads the SDK from the user's project (lib/cli/aws-clients.ts). */
export type ApprovalAwsFactory = (region: string) => ApprovalAws;

/** ApprovalAws over real SDK clients in `region`. */
export function sdkApprovalAws(sdk: AwsSdk, region: string): ApprovalAws {
  const sfn = new sdk.SFNClient({ region });
  const sts = new sdk.STSClient({ region });
  return {
    describeExecution: (input) => sfn.send(new sdk.DescribeExecutionCommand(input)),
    listExecutions: (input) => sfn.send(new sdk.ListExecutionsCommand(input)),
    getExecutionHistory: (input) => sfn.send(new sdk.GetExecutionHistoryCommand(input)),
    sendTaskSuccess: (input) => sfn.send(new sdk.SendTaskSuccessCommand(input)),
    sendTaskFailure: (input) => sfn.send(new sdk.SendTaskFailureCommand(input)),
    getCallerIdentity: () => sts.send(new sdk.GetCallerIdentityCommand({})),
  };
}

/** The project's SDK; only approve and reject call this, so plan and simulate never load it. */
const projectAws: ApprovalAwsFactory = (region) => sdkApprovalAws(loadSdk(), region);

/** A failure to report with exit code 1: AWS refused, or there is nothing to answer. */
export class AnswerError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'AnswerError';
  }
}

export function answerUsage(kind: AnswerKind): string {
  const what =
    kind === 'approve'
      ? 'Approve the pending approval question (SendTaskSuccess): a bake reports what the question says\n            an approval means (Succeeded: the release continues); a failed rollback\u2019s secondary action\n            is taken.'
      : 'Reject the pending approval question (SendTaskFailure, error "Rejected"): a bake reports what the\n            question says a rejection means (Failed: the release is rolled back); a failed rollback\u2019s\n            secondary action is not taken.';
  return `Usage: rollback-triggers ${kind} --execution ARN [options]
       rollback-triggers ${kind} --deployment ID --state-machine ARN [options]

  ${kind.padEnd(8)}  ${what}

  Which bake:
    --execution ARN         the waiting execution (the "Approval Requested" event's executionArn)
    --deployment ID         the CodeDeploy deployment (d-XXXXXXXXX) whose running bake waits, or
                            the failed rollback deployment whose secondary action waits
    --state-machine ARN     with --deployment: the bake state machine (RollbackTrigger.bakeStateMachine),
                            or for a secondary action RollbackTrigger.followUpStateMachine

  The answer (kept in the audit, at most ${MAX_ANSWER_FIELD} characters each):
    --by NAME               who answers (approvedBy); the caller's ARN from STS GetCallerIdentity
                            is sent too (callerIdentity)
    --reason TEXT           why
    --close-breaker         also close the trigger's circuit breaker (the problem that opened it
                            is fixed): its next rollback decisions act alone again

    --region REGION         default: the region in the ARN

  Calls AWS with your project's AWS SDK for JavaScript v3, which the package does not ship:
    ${installCommand(SDK_PACKAGES)}
  AWS credentials come from the usual chain (AWS_PROFILE, environment, SSO, instance role). Needs
  states:DescribeExecution, states:GetExecutionHistory, states:${kind === 'approve' ? 'SendTaskSuccess' : 'SendTaskFailure'}, and with --deployment
  states:ListExecutions.

Exit codes: 0 answer sent, 1 nothing waiting or AWS refused, 2 bad usage or the SDK not installed.`;
}

const ANSWER_FLAGS: Record<string, FlagSpec> = {
  'execution': { type: 'string', value: 'ARN' },
  'deployment': { type: 'string', value: 'ID' },
  'state-machine': { type: 'string', value: 'ARN' },
  'by': { type: 'string', value: 'NAME' },
  'reason': { type: 'string', value: 'TEXT' },
  'close-breaker': { type: 'boolean' },
  'region': { type: 'string', value: 'REGION' },
  'help': { type: 'boolean', short: 'h' },
};

/** Which execution to answer, and the answer's own words. */
export type AnswerTarget = ({ readonly executionArn: string } | { readonly deploymentId: string; readonly stateMachineArn: string }) & {
  readonly region: string;
  readonly by?: string;
  readonly reason?: string;
  readonly closeBreaker?: boolean;
};

const PARTITION = 'aws(?:-[a-z]+)*';
const REGION = '[a-z]{2}(?:-[a-z]+)+-\\d+';
/** Step Functions names: 1 to 80 characters, no whitespace, colon or slash. */
const NAME = '[^:/\\s]{1,80}';
const EXECUTION_ARN = new RegExp(`^arn:${PARTITION}:states:(${REGION}):\\d{12}:execution:${NAME}:${NAME}$`);
const STATE_MACHINE_ARN = new RegExp(`^arn:${PARTITION}:states:(${REGION}):\\d{12}:stateMachine:${NAME}(?::${NAME})?$`);
const REGION_PATTERN = new RegExp(`^${REGION}$`);

/** Parses and checks the flags; `help` when --help is given. Throws InputError (exit 2). */
export function parseAnswerFlags(kind: AnswerKind, argv: readonly string[]): AnswerTarget | 'help' {
  const parsed = parseFlags(argv, ANSWER_FLAGS);
  const v = parsed.values as Record<string, string | undefined> & { 'help'?: boolean; 'close-breaker'?: boolean };
  if (v.help) return 'help';
  if (parsed.positionals.length > 0) throw flagError(`${kind} takes only flags, got ${parsed.positionals.join(' ')}; name the execution with --execution ARN`);
  if (v.execution !== undefined && v.deployment !== undefined) {
    throw flagError('--execution and --deployment both given: give --execution ARN, or --deployment ID with --state-machine ARN');
  }
  if (v.execution === undefined && v.deployment === undefined) {
    throw flagError(`${kind} needs the execution: --execution ARN, or --deployment ID with --state-machine ARN`);
  }
  if (v.execution !== undefined && v['state-machine'] !== undefined) {
    throw flagError('--state-machine goes with --deployment; --execution already names the execution');
  }
  if (v.deployment !== undefined && v['state-machine'] === undefined) {
    throw flagError(`--deployment needs --state-machine ARN, the state machine its executions run in (RollbackTrigger.bakeStateMachine, or followUpStateMachine for a failed rollback's secondary action)`);
  }
  const arnRegion = v.execution !== undefined ? checkExecutionArn(v.execution) : checkStateMachineArn(v['state-machine']!);
  if (v.deployment !== undefined && !DEPLOYMENT_ID_PATTERN.test(v.deployment)) {
    throw flagError(`--deployment must be a CodeDeploy deployment id, "d-" and 9 letters or digits (d-A1B2C3D4E), got "${v.deployment}"`);
  }
  if (v.region !== undefined && !REGION_PATTERN.test(v.region)) throw flagError(`--region must be an AWS region such as us-east-1, got "${v.region}"`);
  for (const flag of ['by', 'reason'] as const) {
    const text = v[flag];
    if (text !== undefined && text.trim().length > MAX_ANSWER_FIELD) {
      throw flagError(`--${flag} is at most ${MAX_ANSWER_FIELD} characters (the audit keeps no more), got ${text.trim().length}`);
    }
  }
  const where = v.execution !== undefined ? { executionArn: v.execution } : { deploymentId: v.deployment!, stateMachineArn: v['state-machine']! };
  return { ...where, region: v.region ?? arnRegion, by: v.by?.trim(), reason: v.reason?.trim(), ...(v['close-breaker'] ? { closeBreaker: true } : {}) };
}

/** The ARN's region, or an InputError saying what an execution ARN looks like. */
function checkExecutionArn(arn: string): string {
  const m = EXECUTION_ARN.exec(arn);
  if (m) return m[1];
  const hint = /:stateMachine:/.test(arn)
    ? ': that is a state machine; give the execution, or --deployment ID with --state-machine ARN'
    : /:express:/.test(arn)
      ? ': an Express execution cannot wait for a task token (the bake runs as a Standard workflow)'
      : '';
  throw flagError(`--execution must be a Step Functions execution ARN, arn:aws:states:REGION:ACCOUNT:execution:STATE-MACHINE:NAME, got "${arn}"${hint}`);
}

function checkStateMachineArn(arn: string): string {
  const m = STATE_MACHINE_ARN.exec(arn);
  if (m) return m[1];
  const hint = /:execution:/.test(arn) ? ': that is an execution; give it with --execution instead of --deployment' : '';
  throw flagError(`--state-machine must be a Step Functions state machine ARN, arn:aws:states:REGION:ACCOUNT:stateMachine:NAME, got "${arn}"${hint}`);
}

/** Runs approve or reject; resolves to the exit code (0 sent, 1 nothing waiting or AWS refused, 2 bad usage or no SDK). */
export async function runAnswer(
  kind: AnswerKind,
  argv: readonly string[],
  out: (s: string) => void,
  err: (s: string) => void,
  awsFor: ApprovalAwsFactory = projectAws,
): Promise<number> {
  let target;
  try {
    target = parseAnswerFlags(kind, argv);
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    err(`${e.message}\n\n${answerUsage(kind)}`);
    return 2;
  }
  if (target === 'help') {
    out(answerUsage(kind));
    return 0;
  }
  try {
    const aws = awsFor(target.region);
    const pending = await findPending(aws, target);
    const answer = await answerOf(aws, target, err);
    await send(aws, kind, pending, answer);
    out(sentLine(kind, pending, answer));
    return 0;
  } catch (e) {
    // No SDK in the project is a usage problem, as a bad flag is: nothing was asked of AWS.
    if (e instanceof SdkUnavailableError) {
      err(e.message);
      return 2;
    }
    err(e instanceof AnswerError ? e.message : `internal error while answering: ${(e as Error).stack ?? String(e)}`);
    return 1;
  }
}

/** The question a waiting execution asked, as the approval task's Detail carries it. */
export interface PendingQuestion {
  readonly executionArn: string;
  readonly taskToken: string;
  readonly deploymentId?: string;
  readonly question?: string;
  readonly expiresAt?: string;
  readonly onApprove?: string;
  readonly onReject?: string;
  readonly onTimeout?: string;
}

async function findPending(aws: ApprovalAws, target: AnswerTarget): Promise<PendingQuestion> {
  if ('deploymentId' in target) return findByDeployment(aws, target.deploymentId, target.stateMachineArn);
  const { executionArn } = target;
  const execution = await call(() => aws.describeExecution({ executionArn }), 'states:DescribeExecution', executionArn);
  if (execution.status !== 'RUNNING') {
    const since = execution.stopDate ? ` since ${execution.stopDate.toISOString()}` : '';
    throw new AnswerError(`execution ${executionArn} is ${execution.status ?? 'in an unknown state'}${since}, not RUNNING: nothing is waiting for an answer`);
  }
  const scan = await scanHistory(aws, executionArn);
  if (scan.state !== 'waiting') throw new AnswerError(nothingWaiting(executionArn, scan));
  return scan.pending;
}

async function findByDeployment(aws: ApprovalAws, deploymentId: string, stateMachineArn: string): Promise<PendingQuestion> {
  const prefix = bakeExecutionNamePrefix(deploymentId);
  // A bake's executions are named after the deployment and the hook; a failed rollback's secondary action after the rollback.
  const secondary = secondaryExecutionName(deploymentId);
  const running = (await listRunning(aws, stateMachineArn)).filter((e) => (e.name?.startsWith(prefix) || e.name === secondary) && e.executionArn);
  if (running.length === 0) {
    throw new AnswerError(
      `no running bake of deployment ${deploymentId} in ${stateMachineArn} (no RUNNING execution named "${prefix}…" or "${secondary}"): it has ended, or it runs in another state machine`,
    );
  }
  const scans = await Promise.all(running.map(async (e) => ({ arn: e.executionArn!, scan: await scanHistory(aws, e.executionArn!) })));
  const waiting = scans.flatMap((s) => (s.scan.state === 'waiting' ? [s.scan.pending] : []));
  if (waiting.length === 1) return waiting[0];
  if (waiting.length === 0) throw new AnswerError(scans.map((s) => nothingWaiting(s.arn, s.scan)).join('\n'));
  const list = waiting.map((p) => `  --execution ${p.executionArn}${p.question ? `\n      ${p.question}` : ''}`).join('\n');
  throw new AnswerError(`${waiting.length} bakes of deployment ${deploymentId} are waiting for an answer; choose one with --execution:\n${list}`);
}

async function listRunning(aws: ApprovalAws, stateMachineArn: string): Promise<ExecutionListItem[]> {
  const all: ExecutionListItem[] = [];
  let nextToken: string | undefined;
  do {
    const page = await call(() => aws.listExecutions({ stateMachineArn, statusFilter: 'RUNNING', maxResults: 1000, nextToken }), 'states:ListExecutions', stateMachineArn);
    all.push(...(page.executions ?? []));
    nextToken = page.nextToken;
  } while (nextToken);
  return all;
}

/** The approval task: EventBridge PutEvents with the callback pattern. */
const WAIT_RESOURCE = 'putEvents.waitForTaskToken';
/** Events that close a task: after one of these for the approval task, its token is spent. */
const TASK_ENDS = new Set(['TaskSucceeded', 'TaskFailed', 'TaskTimedOut', 'TaskSubmitFailed', 'TaskStartFailed']);

type HistoryScan = { readonly state: 'waiting'; readonly pending: PendingQuestion } | { readonly state: 'ended'; readonly event: HistoryEvent } | { readonly state: 'not-asked' };

/** Newest first: the approval task's latest TaskScheduled is pending unless an end of that task came after it. */
async function scanHistory(aws: ApprovalAws, executionArn: string): Promise<HistoryScan> {
  let nextToken: string | undefined;
  do {
    const page = await call(() => aws.getExecutionHistory({ executionArn, reverseOrder: true, nextToken }), 'states:GetExecutionHistory', executionArn);
    for (const event of page.events ?? []) {
      if (TASK_ENDS.has(event.type ?? '') && taskEnd(event)?.resource === WAIT_RESOURCE) return { state: 'ended', event };
      const scheduled = event.type === 'TaskScheduled' ? event.taskScheduledEventDetails : undefined;
      if (scheduled?.resourceType === 'events' && scheduled.resource === WAIT_RESOURCE) {
        return { state: 'waiting', pending: readQuestion(executionArn, scheduled.parameters) };
      }
    }
    nextToken = page.nextToken;
  } while (nextToken);
  return { state: 'not-asked' };
}

function taskEnd(e: HistoryEvent): { resource?: string; error?: string } | undefined {
  return e.taskSucceededEventDetails ?? e.taskFailedEventDetails ?? e.taskTimedOutEventDetails ?? e.taskSubmitFailedEventDetails ?? e.taskStartFailedEventDetails;
}

function nothingWaiting(executionArn: string, scan: HistoryScan): string {
  if (scan.state !== 'ended') {
    return `nothing is waiting for an answer in ${executionArn}: its bake has not asked for approval (no EventBridge PutEvents .waitForTaskToken task in its history)`;
  }
  const { type, timestamp } = scan.event;
  const error = taskEnd(scan.event)?.error;
  const how =
    type === 'TaskSucceeded'
      ? 'was approved'
      : type === 'TaskFailed' && error === APPROVAL_REJECTED_ERROR
        ? 'was rejected'
        : type === 'TaskTimedOut'
          ? 'timed out without an answer'
          : `ended with ${type}${error ? ` (${error})` : ''}`;
  return `nothing is waiting for an answer in ${executionArn}: its approval question ${how}${timestamp ? ` at ${timestamp.toISOString()}` : ''}`;
}

/** The token and question from the TaskScheduled parameters; Detail may be an object or a JSON string. */
function readQuestion(executionArn: string, parameters: string | undefined): PendingQuestion {
  const params = parseJson(parameters);
  const entries = isRecord(params) ? params.Entries : undefined;
  const raw = Array.isArray(entries) && isRecord(entries[0]) ? entries[0].Detail : undefined;
  const detail = typeof raw === 'string' ? parseJson(raw) : raw;
  if (!isRecord(detail) || typeof detail.taskToken !== 'string' || detail.taskToken === '') {
    throw new AnswerError(`the approval task in ${executionArn} has no task token at Entries[0].Detail.taskToken of its parameters: it cannot be answered from here`);
  }
  const approval = isRecord(detail.approval) ? detail.approval : {};
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined);
  return {
    executionArn,
    taskToken: detail.taskToken,
    deploymentId: text(detail.deploymentId),
    question: text(approval.question),
    expiresAt: text(approval.expiresAt),
    onApprove: text(approval.onApprove),
    onReject: text(approval.onReject),
    onTimeout: text(approval.onTimeout),
  };
}

function parseJson(text: string | undefined): unknown {
  if (text === undefined) return undefined;
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}

/** The answer: --by, --reason and the caller's ARN; without STS the answer still goes, CloudTrail names the caller. */
async function answerOf(aws: ApprovalAws, target: AnswerTarget, err: (s: string) => void): Promise<ApprovalAnswer> {
  let callerIdentity: string | undefined;
  try {
    callerIdentity = (await aws.getCallerIdentity()).Arn;
  } catch (e) {
    err(`warning: could not read the caller identity (STS GetCallerIdentity: ${errorText(e)}); the answer goes without callerIdentity`);
  }
  const answer = { approvedBy: target.by, callerIdentity, reason: target.reason, closeBreaker: target.closeBreaker };
  return Object.fromEntries(Object.entries(answer).filter(([, v]) => v !== undefined && v !== '')) as ApprovalAnswer;
}

async function send(aws: ApprovalAws, kind: AnswerKind, p: PendingQuestion, answer: ApprovalAnswer): Promise<void> {
  const text = JSON.stringify(answer);
  try {
    if (kind === 'approve') await aws.sendTaskSuccess({ taskToken: p.taskToken, output: text });
    else await aws.sendTaskFailure({ taskToken: p.taskToken, error: APPROVAL_REJECTED_ERROR, cause: text });
  } catch (e) {
    throw new AnswerError(sendProblem(e, kind === 'approve' ? 'SendTaskSuccess' : 'SendTaskFailure', p));
  }
}

function sendProblem(e: unknown, action: string, p: PendingQuestion): string {
  const name = (e as Error)?.name;
  const unanswered = p.onTimeout ? `; unanswered, the release reports ${p.onTimeout}` : '';
  switch (name) {
    case 'TaskTimedOut':
      return `${action} came too late (TaskTimedOut): the question in ${p.executionArn} is closed — it expired${p.expiresAt ? ` at ${p.expiresAt}` : ''}, was answered meanwhile, or the execution ended${unanswered}`;
    case 'TaskDoesNotExist':
      return `${action}: Step Functions has no task for the token (TaskDoesNotExist): the execution ${p.executionArn} ended or its task was closed`;
    case 'InvalidToken':
      return `${action}: Step Functions refused the task token read from the history of ${p.executionArn} (InvalidToken: ${(e as Error).message})`;
    default:
      return awsProblem(e, `states:${action}`, p.executionArn);
  }
}

/** An SFN read call whose failure becomes an AnswerError naming what was asked. */
async function call<T>(fn: () => Promise<T>, action: string, arn: string): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    throw new AnswerError(awsProblem(e, action, arn));
  }
}

function awsProblem(e: unknown, action: string, arn: string): string {
  const name = (e as Error)?.name ?? '';
  if (/AccessDenied/.test(name)) return `not allowed to call ${action} on ${arn} (${errorText(e)}): the caller needs ${action}`;
  if (name === 'ExecutionDoesNotExist' || name === 'StateMachineDoesNotExist') return `${arn} does not exist (${name}): check the ARN, the account and --region`;
  if (name === 'CredentialsProviderError') return `no AWS credentials for ${action} (${(e as Error).message}): set AWS_PROFILE or the AWS_* variables, or log in (aws sso login)`;
  return `${action} on ${arn} failed: ${errorText(e)}`;
}

function errorText(e: unknown): string {
  return e instanceof Error ? `${e.name}: ${e.message}` : String(e);
}

function sentLine(kind: AnswerKind, p: PendingQuestion, answer: ApprovalAnswer): string {
  const sent = kind === 'approve' ? 'SendTaskSuccess' : `SendTaskFailure (error "${APPROVAL_REJECTED_ERROR}")`;
  const who = [answer.approvedBy && `by ${answer.approvedBy}`, answer.callerIdentity && `as ${answer.callerIdentity}`].filter((s) => s).join(' ');
  const outcome = kind === 'approve' ? p.onApprove : p.onReject;
  return (
    `${kind === 'approve' ? 'Approved' : 'Rejected'} deployment ${p.deploymentId ?? '(id not in the request)'} (execution ${p.executionArn})${who ? ` ${who}` : ''}` +
    `${answer.reason ? `, reason "${answer.reason}"` : ''}: sent ${sent}. ` +
    `Question answered: "${p.question ?? '(not in the request)'}". ` +
    `The release will now report ${outcome ?? `what the gate reports for a ${kind === 'approve' ? 'approval' : 'rejection'}`}.`
  );
}
