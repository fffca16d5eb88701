import { Annotations, CfnElement, Lazy, Stack } from 'aws-cdk-lib';
import { AlarmRule, CfnCompositeAlarm, CompositeAlarm, IAlarm, IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import { Construct, IConstruct } from 'constructs';
import { compositeRule, validateAlarmDescription, validateAlarmName, validateAlarmNamePart, validateComposite } from '../core/cloudwatch-limits';
import { RollbackTriggersError } from '../core/errors';
import { POLICY_METADATA_TYPE, POLICY_SCHEMA_VERSION, type PolicyComposite, type PolicySloGroup } from '../core/policy';
import { PolicyIds } from '../core/policy-builder';
import { SUPPRESSOR_EXTENSION, SUPPRESSOR_WAIT, type FactoryAlarm } from '../private/alarm-factory';
import { atConstruct } from '../private/errors';
import { isUnresolved } from '../private/metrics';

/** Properties of a {@link ServiceLevelObjectiveGroup}. */
export interface ServiceLevelObjectiveGroupProps {
  /**
   * Name of the group in alarm descriptions, the policy and the plan (a service, say); unique in
   * the stack among SLOs and groups, without ASCII control characters or double quotes.
   *
   * @default - the construct id
   */
  readonly groupName?: string;
  /**
   * Actions when any page tier of any member SLO fires.
   *
   * @default - no actions
   */
  readonly pageActions?: IAlarmAction[];
  /**
   * Actions when any ticket tier of any member SLO fires.
   *
   * @default - no actions
   */
  readonly ticketActions?: IAlarmAction[];
  /**
   * Prefix of the names of the group's two composite alarms (`<prefix>-<groupName>-page`).
   *
   * @default - CloudFormation generates unique names
   */
  readonly alarmNamePrefix?: string;
  /**
   * Suppress the ticket alarm's actions while the page alarm is in ALARM, waiting 2 minutes for the
   * page alarm and staying quiet 30 minutes after it clears.
   *
   * @default false
   */
  readonly suppressTicketsWhilePaging?: boolean;
}

const GROUP_SYMBOL = Symbol.for('cdk-rollback-triggers.ServiceLevelObjectiveGroup');

/** One member SLO's terms of a severity: each tier's long and short window alarms. */
interface MemberTerms {
  readonly slo: string;
  readonly alarms: ReadonlyArray<readonly [FactoryAlarm, FactoryAlarm]>;
  readonly ids: ReadonlyArray<readonly [string, string]>;
}

/**
 * SLOs of one service that share one page and one ticket composite alarm: each member keeps its
 * own window alarms (two per tier), and the group's composite per severity ORs every member's tiers,
 * `(ALARM(long) AND ALARM(short)) OR …` (PutCompositeAlarm `AlarmRule`). Each member fires on the
 * same minutes as on its own; the service pays two composites instead of two per SLO ($1.00 a
 * month instead of $1.00 × the number of SLOs). What it gives up: the page names the service, not
 * the SLO (the alarm history and the window alarms say which), and one action list for all.
 *
 * A composite references at most 100 alarms (PutCompositeAlarm): with the workbook tiers, two per
 * page tier and member, 25 SLOs per group; checked at synth.
 *
 * @example
 * declare const stack: Stack;
 * declare const onCall: cloudwatch.IAlarmAction;
 * declare const availability: Sli;
 * declare const latency: Sli;
 * const checkout = new ServiceLevelObjectiveGroup(stack, 'Checkout', { pageActions: [onCall] });
 * new ServiceLevelObjective(stack, 'Availability', { sli: availability, objectivePercent: 99.9, group: checkout });
 * new ServiceLevelObjective(stack, 'Latency', { sli: latency, objectivePercent: 99, group: checkout });
 */
export class ServiceLevelObjectiveGroup extends Construct {
  /** Whether a construct is a ServiceLevelObjectiveGroup (works across copies of the library). */
  public static isServiceLevelObjectiveGroup(x: unknown): x is ServiceLevelObjectiveGroup {
    return typeof x === 'object' && x !== null && GROUP_SYMBOL in x;
  }

  /** The group's name in descriptions, the policy and the plan. */
  public readonly groupName: string;

  /** @internal */
  public readonly _policy: PolicySloGroup;

  private readonly props: ServiceLevelObjectiveGroupProps;
  private readonly terms = new Map<'page' | 'ticket', MemberTerms[]>();
  private readonly composites = new Map<'page' | 'ticket', CompositeAlarm>();
  private readonly policyComposites: PolicyComposite[] = [];
  private readonly members: string[] = [];

  constructor(scope: Construct, id: string, props: ServiceLevelObjectiveGroupProps = {}) {
    super(scope, id);
    Object.defineProperty(this, GROUP_SYMBOL, { value: true });
    this.props = props;
    this.groupName = props.groupName ?? id;
    atConstruct(this, () => validateGroup(props, this.groupName));
    atConstruct(this, () => checkNameFree(this, this.groupName, props.alarmNamePrefix));
    // Members join after the group is created: the entry's lists fill in as they do, and the
    // cloud assembly is written at synth, when every member has joined.
    this._policy = { kind: 'slo-group', name: this.groupName, path: this.node.path, members: this.members, composites: this.policyComposites };
    this.node.addMetadata(POLICY_METADATA_TYPE, { schemaVersion: POLICY_SCHEMA_VERSION, entry: this._policy });
    this.node.addValidation({ validate: () => this.validateRules() });
  }

  /**
   * The composite that pages: any page tier of any member SLO.
   *
   * @default - undefined until a member SLO with a page tier joins
   */
  public get pageAlarm(): IAlarm | undefined {
    return this.composites.get('page');
  }

  /**
   * The composite that opens tickets: any ticket tier of any member SLO.
   *
   * @default - undefined until a member SLO with a ticket tier joins
   */
  public get ticketAlarm(): IAlarm | undefined {
    return this.composites.get('ticket');
  }

  /** The member SLOs' construct paths, in the order they joined. */
  public get memberPaths(): string[] {
    return [...this.members];
  }

  /**
   * Adds a member SLO's tiers to the group's rules (called by the SLO's constructor).
   *
   * @internal
   */
  public _join(slo: IConstruct, bySeverity: ReadonlyMap<'page' | 'ticket', MemberTerms['alarms']>, idsBySeverity: ReadonlyMap<'page' | 'ticket', MemberTerms['ids']>): void {
    if (Stack.of(slo) !== Stack.of(this)) {
      throw new RollbackTriggersError(
        'RT132',
        `group: ${slo.node.path} is in stack ${Stack.of(slo).node.path}, the group ${this.node.path} in ${Stack.of(this).node.path} — a composite alarm and its alarms must be in one stack`,
        { prop: 'group' },
      );
    }
    this.members.push(slo.node.path);
    for (const severity of ['page', 'ticket'] as const) {
      const alarms = bySeverity.get(severity);
      if (!alarms || alarms.length === 0) continue;
      const list = this.terms.get(severity) ?? [];
      list.push({ slo: slo.node.path, alarms, ids: idsBySeverity.get(severity)! });
      this.terms.set(severity, list);
      if (!this.composites.has(severity)) this.createComposite(severity);
      const entry = this.policyComposites.find((c) => c.id === PolicyIds.severityComposite(this.node.path, severity))!;
      (entry.children as Array<{ allOf: readonly string[] }>).push(...idsBySeverity.get(severity)!.map((pair) => ({ allOf: [...pair] })));
    }
    this.linkSuppressor();
  }

  private createComposite(severity: 'page' | 'ticket'): void {
    const prefix = this.props.alarmNamePrefix;
    const description = `SLO group ${this.groupName}: any ${severity} tier of its SLOs firing (burn rate over both its long and its short window).`;
    atConstruct(this, () => validateAlarmDescription('the group alarm description (built from groupName)', description));
    const composite = new CompositeAlarm(this, severity === 'page' ? 'PageAlarm' : 'TicketAlarm', {
      // The members join after the group exists: the rule is rendered at synth, over every member.
      alarmRule: AlarmRule.fromString(Lazy.string({ produce: () => this.rule(severity, (a) => a.alarm.alarmName) })),
      alarmDescription: description,
      compositeAlarmName: prefix === undefined ? undefined : `${prefix}-${this.groupName}-${severity}`,
    });
    for (const action of (severity === 'page' ? this.props.pageActions : this.props.ticketActions) ?? []) composite.addAlarmAction(action);
    this.composites.set(severity, composite);
    this.policyComposites.push({ id: PolicyIds.severityComposite(this.node.path, severity), kind: 'severity', severity, operator: 'OR', children: [] });
  }

  /** PutCompositeAlarm requires both periods whenever an ActionsSuppressor is set. */
  private linkSuppressor(): void {
    const page = this.composites.get('page');
    const ticket = this.composites.get('ticket');
    if (!this.props.suppressTicketsWhilePaging || !page || !ticket) return;
    const cfn = ticket.node.defaultChild as CfnCompositeAlarm;
    if (cfn.actionsSuppressor !== undefined) return;
    cfn.actionsSuppressor = page.alarmArn;
    cfn.actionsSuppressorWaitPeriod = SUPPRESSOR_WAIT.toSeconds();
    cfn.actionsSuppressorExtensionPeriod = SUPPRESSOR_EXTENSION.toSeconds();
    const ticketEntry = this.policyComposites.find((c) => c.severity === 'ticket')! as { suppressedBy?: string };
    ticketEntry.suppressedBy = PolicyIds.severityComposite(this.node.path, 'page');
  }

  private rule(severity: 'page' | 'ticket', nameOf: (a: FactoryAlarm) => string | undefined): string {
    const groups = (this.terms.get(severity) ?? []).flatMap((m) => m.alarms.map(([long, short]) => [nameOf(long)!, nameOf(short)!]));
    return compositeRule('OR', groups);
  }

  /** A rule over generated alarm names whose estimated length passes PutCompositeAlarm's limit: a warning (the names are only known at deploy). */
  private warnGeneratedRuleLength(severity: 'page' | 'ticket'): void {
    const stack = Stack.of(this);
    if (isUnresolved(stack.stackName)) return;
    const estimate = this.rule(severity, (a) => a.literalName ?? `${stack.stackName}-${stack.getLogicalId(a.alarm.node.defaultChild as CfnElement)}-${'x'.repeat(GENERATED_NAME_SUFFIX - 1)}`).length;
    if (estimate > MAX_RULE_LENGTH) {
      Annotations.of(this).addWarningV2(
        'cdk-rollback-triggers:groupRuleLength',
        `The ${severity} composite of group ${this.groupName} names ${this.memberPaths.length} SLOs' window alarms by names CloudFormation generates; their rule is estimated at ` +
          `${estimate} characters, above the 10,240 PutCompositeAlarm allows — set alarmNamePrefix on the members (short literal names), split the group, or acknowledge this warning.`,
      );
    }
  }

  /** At synth, with every member joined: at most 100 alarms per composite, and its rule's length when names are literal. */
  private validateRules(): string[] {
    const errors: string[] = [];
    if (this.members.length === 0) {
      errors.push(`[RT132] group ${this.groupName} has no member SLO: give an SLO \`group: \` this group, or remove it`);
    } else if (this.props.suppressTicketsWhilePaging && (!this.composites.has('page') || !this.composites.has('ticket'))) {
      // As for an SLO (RT125): suppression needs a page and a ticket composite, or it never acts.
      errors.push(`[RT132] suppressTicketsWhilePaging silences the group's ticket alarm while it pages, but no member of group ${this.groupName} has a ${this.composites.has('page') ? 'ticket' : 'page'} tier — add one or remove suppressTicketsWhilePaging`);
    }
    for (const severity of ['page', 'ticket'] as const) {
      const members = this.terms.get(severity) ?? [];
      const alarms = members.flatMap((m) => m.alarms.flat());
      const literal = alarms.every((a) => a.literalName !== undefined) ? this.rule(severity, (a) => a.literalName) : undefined;
      if (literal === undefined) this.warnGeneratedRuleLength(severity);
      try {
        validateComposite(`the ${severity} composite of group ${this.groupName} (${members.length} SLOs)`, alarms.length, literal);
      } catch (e) {
        errors.push(e instanceof RollbackTriggersError ? `[${e.code}] ${e.message}` : String(e));
      }
    }
    return errors;
  }
}

/**
 * Names CloudFormation generates for alarms are not documented; they have been observed as
 * `<stack name>-<logical id>-<13 characters>`. The estimate only warns (PutCompositeAlarm refuses a
 * rule over 10,240 characters at deploy).
 */
const GENERATED_NAME_SUFFIX = 14;
const MAX_RULE_LENGTH = 10_240;

/** The name an SLO holds in its stack (set by ServiceLevelObjective; the same global symbol). */
const SLO_NAME_CLAIM = Symbol.for('cdk-rollback-triggers.ServiceLevelObjective.sloName');

/**
 * A group's name names its composites (`<prefix>-<groupName>-page`) as an SLO's name names its own,
 * and the plan tells groups and SLOs apart by it: no other group or SLO of the stack may hold it.
 */
function checkNameFree(group: ServiceLevelObjectiveGroup, name: string, prefix: string | undefined): void {
  const stack = Stack.of(group);
  const holder = stack.node.findAll().find((c) => {
    if (c === group || Stack.of(c) !== stack) return false;
    if (ServiceLevelObjectiveGroup.isServiceLevelObjectiveGroup(c)) return c.groupName === name;
    return (c as unknown as Record<symbol, string | undefined>)[SLO_NAME_CLAIM] === name;
  });
  if (holder !== undefined) {
    throw new RollbackTriggersError(
      'RT132',
      `groupName "${name}" is already the name of ${holder.node.path} in stack ${stack.node.path}: a group's composites are named after it as an SLO's are — give one of them another name`,
      { prop: 'groupName' },
    );
  }
  if (prefix !== undefined && !isUnresolved(prefix)) {
    for (const severity of ['page', 'ticket']) validateAlarmName(`${prefix}-${name}-${severity}`, 'the composite alarm name built from alarmNamePrefix and groupName');
  }
}

function validateGroup(props: ServiceLevelObjectiveGroupProps, name: string): void {
  if (isUnresolved(name) || typeof name !== 'string' || name.trim().length === 0) {
    throw new RollbackTriggersError('RT132', `groupName must be a literal, non-empty string, got ${JSON.stringify(name)}`, { prop: 'groupName' });
  }
  validateAlarmNamePart('groupName', name);
  if (props.alarmNamePrefix !== undefined && !isUnresolved(props.alarmNamePrefix)) validateAlarmNamePart('alarmNamePrefix', props.alarmNamePrefix);
  if (props.suppressTicketsWhilePaging !== undefined && typeof props.suppressTicketsWhilePaging !== 'boolean') {
    throw new RollbackTriggersError('RT132', `suppressTicketsWhilePaging must be true or false, got ${JSON.stringify(props.suppressTicketsWhilePaging)}`, { prop: 'suppressTicketsWhilePaging' });
  }
}
