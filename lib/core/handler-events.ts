import type { HookEvent } from './bake';

/**
 * Validation of the events the Lambda handlers receive, so a malformed event is refused with a
 * reason instead of surfacing as a TypeError or as a key like `hook#undefined`.
 */

/** A CodeDeploy deployment id: `d-` and 9 letters or digits (e.g. `d-A1B2C3D4E`). */
export const DEPLOYMENT_ID_PATTERN = /^d-[A-Za-z0-9]{9}$/;

/**
 * The longest hook execution id accepted. CodeDeploy's are ~288 base64 characters; the cap is
 * generous (3.5×) and only refuses what cannot be a real id.
 */
export const MAX_HOOK_EXECUTION_ID_LENGTH = 1024;

/** `aws.codedeploy` deployment state changes on EventBridge. */
export const CODEDEPLOY_EVENT_SOURCE = 'aws.codedeploy';
export const DEPLOYMENT_STATE_CHANGE_DETAIL_TYPE = 'CodeDeploy Deployment State-change Notification';
/** The deployment states the state-change handler acts on (the rule should match only these). */
export const HANDLED_DEPLOYMENT_STATES = ['SUCCESS', 'FAILURE', 'STOP'] as const;
export type HandledDeploymentState = (typeof HANDLED_DEPLOYMENT_STATES)[number];

export function isDeploymentId(value: unknown): value is string {
  return typeof value === 'string' && DEPLOYMENT_ID_PATTERN.test(value);
}

export type Validated<T> = { readonly ok: true; readonly event: T } | { readonly ok: false; readonly problem: string; readonly deploymentId?: string };

/** Printable ASCII without spaces: base64 (`+/=`) and URL-safe base64 (`-_`) ids, nothing that breaks a log line. */
const HOOK_ID_CHARACTERS = /^[\x21-\x7e]+$/;

function describe(value: unknown): string {
  if (value === undefined) return 'nothing';
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'string' ? 'a string' : typeof value;
}

/** A value for a message: a string quoted and cut short, anything else described. */
function shown(value: unknown): string {
  return typeof value === 'string' ? JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}…` : value) : describe(value);
}

/** Checks a CodeDeploy lifecycle hook payload (only `DeploymentId` and `LifecycleEventHookExecutionId`). */
export function validateHookEvent(event: unknown): Validated<HookEvent> {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) {
    return { ok: false, problem: `expected an object with DeploymentId and LifecycleEventHookExecutionId, got ${describe(event)}` };
  }
  const record = event as Record<string, unknown>;
  const deploymentId = record.DeploymentId;
  const hookId = record.LifecycleEventHookExecutionId;
  const knownDeployment = isDeploymentId(deploymentId) ? deploymentId : undefined;
  if (deploymentId === undefined) return { ok: false, problem: 'DeploymentId is missing' };
  if (typeof deploymentId !== 'string') return { ok: false, problem: `DeploymentId is ${describe(deploymentId)}, not a string` };
  if (!knownDeployment) return { ok: false, problem: `DeploymentId ${shown(deploymentId)} is not shaped like d-XXXXXXXXX` };
  if (hookId === undefined) return { ok: false, problem: 'LifecycleEventHookExecutionId is missing', deploymentId: knownDeployment };
  if (typeof hookId !== 'string') return { ok: false, problem: `LifecycleEventHookExecutionId is ${describe(hookId)}, not a string`, deploymentId: knownDeployment };
  if (hookId.length === 0) return { ok: false, problem: 'LifecycleEventHookExecutionId is empty', deploymentId: knownDeployment };
  if (hookId.length > MAX_HOOK_EXECUTION_ID_LENGTH) {
    return { ok: false, problem: `LifecycleEventHookExecutionId is ${hookId.length} characters long (at most ${MAX_HOOK_EXECUTION_ID_LENGTH})`, deploymentId: knownDeployment };
  }
  if (!HOOK_ID_CHARACTERS.test(hookId)) return { ok: false, problem: 'LifecycleEventHookExecutionId contains whitespace or non-ASCII characters', deploymentId: knownDeployment };
  return { ok: true, event: { DeploymentId: knownDeployment, LifecycleEventHookExecutionId: hookId } };
}

/** The fields of a deployment state-change notification the handler uses. */
export interface DeploymentStateChange {
  readonly deploymentId: string;
  /** START, STOP, FAILURE, SUCCESS, READY… */
  readonly state: string;
  readonly application?: string;
  readonly deploymentGroup?: string;
}

/** Checks an `aws.codedeploy` "CodeDeploy Deployment State-change Notification" event. */
export function validateDeploymentStateChange(event: unknown): Validated<DeploymentStateChange> {
  if (typeof event !== 'object' || event === null || Array.isArray(event)) return { ok: false, problem: `expected an EventBridge event object, got ${describe(event)}` };
  const record = event as Record<string, unknown>;
  if (record.source !== CODEDEPLOY_EVENT_SOURCE) return { ok: false, problem: `source is ${shown(record.source)}, not ${CODEDEPLOY_EVENT_SOURCE}` };
  if (record['detail-type'] !== DEPLOYMENT_STATE_CHANGE_DETAIL_TYPE) return { ok: false, problem: `detail-type is ${shown(record['detail-type'])}, not ${DEPLOYMENT_STATE_CHANGE_DETAIL_TYPE}` };
  const detail = record.detail;
  if (typeof detail !== 'object' || detail === null || Array.isArray(detail)) return { ok: false, problem: `detail is ${describe(detail)}, not an object` };
  const d = detail as Record<string, unknown>;
  if (!isDeploymentId(d.deploymentId)) return { ok: false, problem: `detail.deploymentId ${shown(d.deploymentId)} is not shaped like d-XXXXXXXXX` };
  if (typeof d.state !== 'string' || d.state.length === 0) return { ok: false, problem: 'detail.state is missing', deploymentId: d.deploymentId };
  for (const field of ['application', 'deploymentGroup'] as const) {
    if (d[field] !== undefined && typeof d[field] !== 'string') return { ok: false, problem: `detail.${field} is ${describe(d[field])}, not a string`, deploymentId: d.deploymentId };
  }
  return {
    ok: true,
    event: {
      deploymentId: d.deploymentId,
      state: d.state,
      application: d.application as string | undefined,
      deploymentGroup: d.deploymentGroup as string | undefined,
    },
  };
}
