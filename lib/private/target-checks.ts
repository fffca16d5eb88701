import { Annotations, CfnElement, CfnResource, Resource, Stack, Token } from 'aws-cdk-lib';
import { CfnAlarm, CfnCompositeAlarm, IMetric } from 'aws-cdk-lib/aws-cloudwatch';
import { CfnDeploymentConfig, CfnDeploymentGroup } from 'aws-cdk-lib/aws-codedeploy';
import { IApplicationTargetGroup } from 'aws-cdk-lib/aws-elasticloadbalancingv2';
import { IEventBus } from 'aws-cdk-lib/aws-events';
import { IRole } from 'aws-cdk-lib/aws-iam';
import { Alias, CfnAlias } from 'aws-cdk-lib/aws-lambda';
import { ITopic } from 'aws-cdk-lib/aws-sns';
import { Construct, IConstruct } from 'constructs';
import { RollbackTriggersError, errorText, formatNumber } from '../core/errors';
import type { ServiceLevelObjective } from '../slo/service-level-objective';
import type { EcsServiceRollbackTargetProps } from '../rollback/rollback-target';

// Cross-object consistency of a RollbackTrigger: the target, its deployment group, the SLIs of its
// objectives and its audit destinations must name the same things, or the rollback path watches
// something else than the release. Each check compares what CloudFormation will receive; where a
// value is only known at deploy time (an imported object, a parameter) it warns with what it could
// not check instead of guessing.

/** Whether two values name the same thing once deployed, as far as synth can tell. */
export type Comparison = 'same' | 'different' | 'unknown';

/**
 * Compares two values as CloudFormation will receive them. Equal renderings are the same thing.
 * Two literals that differ, or two references to different resources of the stack, are different
 * things. Anything else (a literal against a reference: a resource may carry that physical name; a
 * parameter, an import, a pseudo parameter) is only known at deploy time.
 */
export function compareResolved(stack: Stack, a: unknown, b: unknown): Comparison {
  if (typeof a === 'string' && typeof b === 'string' && a === b) return 'same';
  const ra = stack.resolve(a);
  const rb = stack.resolve(b);
  if (JSON.stringify(ra) === JSON.stringify(rb)) return 'same';
  if (typeof ra === 'string' && typeof rb === 'string') return 'different';
  if (typeof ra === 'string' || typeof rb === 'string') return 'unknown';
  const resources = resourceIds(stack);
  return knownAtSynth(ra, resources) && knownAtSynth(rb, resources) ? 'different' : 'unknown';
}

/** True when a resolved value is built from literals and references to resources of the stack only. */
function knownAtSynth(value: unknown, resources: ReadonlySet<string>): boolean {
  if (value === null || typeof value !== 'object') return true;
  if (Array.isArray(value)) return value.every((v) => knownAtSynth(v, resources));
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length === 1) {
    const [key, arg] = entries[0];
    if (key === 'Ref') return typeof arg === 'string' && resources.has(arg);
    if (key === 'Fn::GetAtt') return Array.isArray(arg) && typeof arg[0] === 'string' && resources.has(arg[0]);
    if (key === 'Fn::Join') return knownAtSynth(arg, resources);
    if (key.startsWith('Fn::')) return false;
  }
  return entries.every(([, v]) => knownAtSynth(v, resources));
}

function resourceIds(stack: Stack): Set<string> {
  const ids = new Set<string>();
  for (const c of stack.node.findAll()) {
    if (CfnResource.isCfnResource(c)) ids.add(stack.resolve(c.logicalId) as string);
  }
  return ids;
}

/**
 * A value as a user recognises it: a literal as written, a reference as the construct it names
 * (`<Stack/Fn>`, `<Stack/Fn/CurrentVersion>.Version`), a join as its parts (`<Stack/Fn>:live`).
 */
export function describeValue(stack: Stack, value: unknown): string {
  const resolved = stack.resolve(value);
  return typeof resolved === 'string' ? JSON.stringify(resolved) : render(stack, resolved);
}

function render(stack: Stack, value: unknown): string {
  if (typeof value === 'string') return value;
  const pathOf = (id: unknown) => {
    const element = typeof id === 'string' ? elementByLogicalId(stack, id) : undefined;
    if (!element) return String(id);
    // The L2 construct rather than its CloudFormation resource (`Stack/Fn`, not `Stack/Fn/Resource`).
    return element.node.id === 'Resource' && element.node.scope ? element.node.scope.node.path : element.node.path;
  };
  if (value && typeof value === 'object' && !Array.isArray(value)) {
    const [key, arg] = Object.entries(value as Record<string, unknown>)[0] ?? [];
    if (key === 'Ref') return `<${pathOf(arg)}>`;
    if (key === 'Fn::GetAtt' && Array.isArray(arg)) return `<${pathOf(arg[0])}>.${String(arg[1])}`;
    if (key === 'Fn::Join' && Array.isArray(arg) && Array.isArray(arg[1])) return arg[1].map((part: unknown) => render(stack, part)).join(String(arg[0]));
  }
  return JSON.stringify(value);
}

function elementByLogicalId(stack: Stack, logicalId: string): CfnElement | undefined {
  return stack.node.findAll().find((c): c is CfnElement => CfnElement.isCfnElement(c) && stack.resolve(c.logicalId) === logicalId);
}

/**
 * A Lambda alias is released by the one deployment group that set its CodeDeployLambdaAliasUpdate
 * update policy (aws-cdk-lib's `LambdaDeploymentGroup` sets it on its `alias`; a second group on
 * the same alias replaces it). Alarms and hooks on any other group guard a deployment that never
 * moves this alias (RT321).
 */
export function checkAliasOfGroup(group: Construct, alias: Construct): void {
  const cfnGroup = group.node.defaultChild;
  const cfnAlias = alias.node.defaultChild;
  if (!(cfnGroup instanceof CfnDeploymentGroup) || !(cfnAlias instanceof CfnAlias)) return;
  const shiftedBy = cfnAlias.cfnOptions.updatePolicy?.codeDeployLambdaAliasUpdate?.deploymentGroupName;
  if (shiftedBy === cfnGroup.ref) return;
  const other =
    shiftedBy === undefined
      ? undefined
      : Stack.of(alias)
          .node.findAll()
          .find((c) => c instanceof CfnDeploymentGroup && c.ref === shiftedBy);
  throw new RollbackTriggersError(
    'RT321',
    `RollbackTarget.lambdaAlias: alias ${alias.node.path} is ${other ? `released by deployment group ${other.node.scope?.node.path ?? other.node.path}` : 'not released by any CodeDeploy deployment group'}, ` +
      `not by deploymentGroup ${group.node.path}: the rollback alarms and hooks would guard deployments that never move this alias — ` +
      "pass the alias given to the deployment group's `alias` prop (a deployment group shifts exactly one alias)",
    { prop: 'alias' },
  );
}

/**
 * The ECS service and the two target groups a RollbackTarget names must be the deployment group's
 * own (CfnDeploymentGroup `ECSServices`, `LoadBalancerInfo.TargetGroupPairInfoList`): the alarms
 * read the target groups' metrics, the evaluator the service's task sets (RT322, RT323). Names only
 * known at deploy time are warned about.
 */
export function checkEcsTargetOfGroup(scope: Construct, ecs: EcsServiceRollbackTargetProps): void {
  const cfn = ecs.deploymentGroup.node.defaultChild;
  if (!(cfn instanceof CfnDeploymentGroup)) return;
  const stack = Stack.of(cfn);
  const unchecked: string[] = [];
  const services = (stack.resolve(cfn.ecsServices) ?? []) as Array<{ serviceName: unknown; clusterName: unknown }>;
  if (services.length > 0) {
    const byName = compareResolved(stack, services[0].serviceName, ecs.service.serviceName);
    const byCluster = compareResolved(stack, services[0].clusterName, ecs.service.cluster.clusterName);
    if (byName === 'different' || byCluster === 'different') {
      throw new RollbackTriggersError(
        'RT322',
        `target service ${ecs.service.node.path} is not the service of deploymentGroup ${ecs.deploymentGroup.node.path} ` +
          `(it releases service ${describeValue(stack, services[0].serviceName)} of cluster ${describeValue(stack, services[0].clusterName)}): ` +
          "the evaluator would judge task sets CodeDeploy never deploys — pass the service given to the deployment group's `service` prop",
        { constructPath: scope.node.path, prop: 'service' },
      );
    }
    if (byName === 'unknown' || byCluster === 'unknown') unchecked.push(`that service ${ecs.service.node.path} is the one deploymentGroup releases`);
  }
  const info = stack.resolve(cfn.loadBalancerInfo) as { targetGroupPairInfoList?: Array<{ targetGroups?: Array<{ name: unknown }> }> } | undefined;
  const groupNames = info?.targetGroupPairInfoList?.[0]?.targetGroups?.map((t) => t.name) ?? [];
  if (groupNames.length > 0) {
    for (const [prop, tg] of [
      ['blueTargetGroup', ecs.blueTargetGroup],
      ['greenTargetGroup', ecs.greenTargetGroup],
    ] as const) {
      const comparisons = groupNames.map((name) => compareResolved(stack, name, tg.targetGroupName));
      if (comparisons.includes('same')) continue;
      if (comparisons.every((c) => c === 'different')) {
        throw new RollbackTriggersError(
          'RT323',
          `target ${prop} ${tg.node.path} is not one of the two target groups deploymentGroup ${ecs.deploymentGroup.node.path} swaps ` +
            `(${groupNames.map((n) => describeValue(stack, n)).join(' and ')}): its alarms would watch traffic no release goes to — ` +
            "pass the deployment group's blueGreenDeploymentConfig.blueTargetGroup and greenTargetGroup",
          { constructPath: scope.node.path, prop },
        );
      }
      unchecked.push(`that ${prop} ${tg.node.path} is one of the target groups deploymentGroup swaps`);
    }
  }
  if (!Resource.isOwnedResource(ecs.service)) {
    unchecked.push(`that the imported service ${ecs.service.node.path} uses the CODE_DEPLOY deployment controller (RT302)`);
  }
  if (unchecked.length > 0) {
    Annotations.of(scope).addWarningV2(
      'cdk-rollback-triggers:ecsTargetUnchecked',
      `Names known only at deploy time: could not check ${unchecked.join('; ')}. A mismatch makes the rollback path watch another service's traffic.`,
    );
  }
}

/** The dimensions of every metric an SLI reads, with its namespace (math expressions walked through). */
function leafMetrics(metric: IMetric | undefined): Array<{ namespace: string; dimensions: Record<string, unknown> }> {
  if (!metric) return [];
  const config = metric.toMetricConfig();
  if (config.mathExpression) return Object.values(config.mathExpression.usingMetrics).flatMap(leafMetrics);
  if (!config.metricStat) return [];
  const dimensions: Record<string, unknown> = {};
  for (const d of config.metricStat.dimensions ?? []) dimensions[d.name] = d.value;
  return [{ namespace: config.metricStat.namespace, dimensions }];
}

/** The `TargetGroup` dimension the target group's own metrics carry (its full name, `targetgroup/…`). */
function targetGroupDimension(tg: IApplicationTargetGroup): unknown {
  return tg.metrics.requestCount().toMetricConfig().metricStat?.dimensions?.find((d) => d.name === 'TargetGroup')?.value;
}

/**
 * Whether a Lambda `Resource` dimension names a version (`function:3`, `function:$LATEST`, or a
 * `Version` attribute of an AWS::Lambda::Version) rather than an alias.
 */
function namesVersion(resolved: unknown): boolean {
  const text = JSON.stringify(resolved);
  if (/"Fn::GetAtt":\["[^"]+","Version"\]/.test(text)) return true;
  if (typeof resolved === 'string') return /:(\d+|\$LATEST)$/.test(resolved);
  return /:(\d+|\$LATEST)"\]\]\}$/.test(text);
}

/**
 * The SLI of an objective must measure the target's own traffic: for a Lambda target the alias the
 * deployment group shifts (the trigger scopes it to the new version with `ExecutedVersion`), for an
 * ECS target the blue or green target group, or the service. The rebinding of a convenience SLI
 * keeps the metric family and replaces only the scope, so an SLI on another function's alias would
 * read `ExecutedVersion` of a version that function never runs: an alarm that never fires (RT324).
 *
 * An SLI declared on a Lambda version (`Resource` = function:version) is refused (RT325): Lambda
 * documents `ExecutedVersion` for invocations through an alias ("ExecutedVersion ... only applies to
 * alias invocations", Lambda metrics page) and does not say that alias invocations are also counted
 * under the version's `Resource`, so the rollback alarm would read a dimension set whose traffic is
 * undocumented.
 *
 * Targets are read from the SLI's metrics' dimensions (AWS/Lambda FunctionName and Resource,
 * AWS/ApplicationELB TargetGroup, AWS/ECS ServiceName); metrics of other namespaces carry no target
 * to compare (their scope is the user's declaration).
 */
export function checkLambdaSliTarget(scope: Construct, slo: ServiceLevelObjective, prop: string, alias: Alias): void {
  const { stack, metrics, unchecked, refuse } = sliTargetCheck(scope, slo, prop);
  const functionName = alias.version.lambda.functionName;
  const aliasResource = `${functionName}:${alias.aliasName}`;
  const how = `declare it on the target's alias, for example Sli.lambdaAvailability(${alias.node.id}) — the trigger scopes it to the new version itself`;
  for (const m of metrics.filter((x) => x.namespace === 'AWS/Lambda')) {
    const fn = m.dimensions.FunctionName;
    if (fn !== undefined) {
      const c = compareResolved(stack, fn, functionName);
      if (c === 'different') refuse(`function ${describeValue(stack, fn)} (FunctionName), not the target's function ${alias.version.lambda.node.path}`, how);
      if (c === 'unknown') unchecked.add(`FunctionName ${describeValue(stack, fn)}`);
    }
    const resource = m.dimensions.Resource;
    if (resource === undefined) continue;
    const c = compareResolved(stack, resource, aliasResource);
    if (c === 'same') continue;
    if (c === 'unknown') {
      unchecked.add(`Resource ${describeValue(stack, resource)}`);
      continue;
    }
    if (namesVersion(stack.resolve(resource))) {
      throw new RollbackTriggersError(
        'RT325',
        `objectives contains SLO ${slo.sloName} (${slo.node.path}), whose SLI is declared on a Lambda version (Resource ${describeValue(stack, resource)}), ` +
          `not on alias ${alias.node.path}: Lambda documents the ExecutedVersion dimension for invocations through an alias and does not say that they are counted under ` +
          `the version's Resource, so the rollback alarm would read traffic of undocumented extent — ${how}`,
        { constructPath: scope.node.path, prop },
      );
    }
    refuse(`another qualifier of the function (Resource ${describeValue(stack, resource)}), not alias ${alias.node.path} that deploymentGroup shifts`, how);
  }
  warnUnchecked(scope, slo, unchecked);
}

/** {@link checkLambdaSliTarget} for an ECS target: its blue or green target group, or its service. */
export function checkEcsSliTarget(scope: Construct, slo: ServiceLevelObjective, prop: string, ecs: EcsServiceRollbackTargetProps): void {
  const { stack, metrics, unchecked, refuse } = sliTargetCheck(scope, slo, prop);
  const how = `declare it on the target's blue or green target group, for example Sli.targetGroupAvailability(${ecs.greenTargetGroup.node.id}) — the trigger watches both`;
  for (const m of metrics) {
    const tg = m.namespace === 'AWS/ApplicationELB' ? m.dimensions.TargetGroup : undefined;
    if (tg !== undefined) {
      const cs = [ecs.blueTargetGroup, ecs.greenTargetGroup].map((g) => compareResolved(stack, tg, targetGroupDimension(g)));
      if (cs.includes('same')) continue;
      if (cs.every((c) => c === 'different')) refuse(`target group ${describeValue(stack, tg)}, neither blueTargetGroup ${ecs.blueTargetGroup.node.path} nor greenTargetGroup ${ecs.greenTargetGroup.node.path}`, how);
      unchecked.add(`TargetGroup ${describeValue(stack, tg)}`);
    }
    const service = m.namespace === 'AWS/ECS' ? m.dimensions.ServiceName : undefined;
    if (service !== undefined) {
      const c = compareResolved(stack, service, ecs.service.serviceName);
      if (c === 'different') refuse(`ECS service ${describeValue(stack, service)}, not the target's service ${ecs.service.node.path}`, 'declare it on the target service or its target groups');
      if (c === 'unknown') unchecked.add(`ServiceName ${describeValue(stack, service)}`);
    }
  }
  warnUnchecked(scope, slo, unchecked);
}

/**
 * What both SLI target checks start from: the SLI's leaf metrics and the refusal they share (RT324).
 * `prop` is the objective as the trigger's props list it (`objectives[1]`).
 */
function sliTargetCheck(scope: Construct, slo: ServiceLevelObjective, prop: string) {
  const counts = slo.sli._counts;
  const refuse = (what: string, instead: string): never => {
    throw new RollbackTriggersError(
      'RT324',
      `objectives contains SLO ${slo.sloName} (${slo.node.path}), whose SLI measures ${what}: its rollback alarm would watch traffic this release never serves and never fire — ${instead}`,
      { constructPath: scope.node.path, prop },
    );
  };
  return { stack: Stack.of(scope), metrics: [counts.bad, counts.good, counts.total].flatMap(leafMetrics), unchecked: new Set<string>(), refuse };
}

function warnUnchecked(scope: Construct, slo: ServiceLevelObjective, unchecked: ReadonlySet<string>): void {
  if (unchecked.size === 0) return;
  Annotations.of(scope).addWarningV2(
    'cdk-rollback-triggers:sliTargetUnchecked',
    `SLO ${slo.sloName}: could not check at synth that ${[...unchecked].join(', ')} names the rollback target (a value known only at deploy time). ` +
      "If it names another function or target group, the rollback alarm watches traffic this release never serves.",
  );
}

/**
 * CodeDeploy's documented limits for a custom deployment configuration of the Lambda compute
 * platform (CodeDeploy User Guide, "CodeDeploy quotas", deployment configurations): at most 2,880
 * minutes between the first and the last traffic shift of a canary or linear deployment, and at most
 * 99 % of traffic shifted in one increment. CloudFormation takes whole numbers for the intervals and
 * percentages (AWS::CodeDeploy::DeploymentConfig TimeBasedCanary / TimeBasedLinear); a step of 0 %
 * never shifts anything. The ECS platform's limits are not documented: only whole numbers from 1 to
 * 100 % are required there (RT328).
 */
export const MAX_LAMBDA_SHIFT_MINUTES = 2_880;
export const MAX_LAMBDA_STEP_PERCENT = 99;

export function checkDeploymentShape(scope: Construct, group: Construct & { readonly deploymentConfig: unknown }, platform: 'lambda' | 'ecs'): void {
  const config = group.deploymentConfig;
  if (!Construct.isConstruct(config)) return; // a predefined configuration, imported by name
  const cfn = config.node.defaultChild;
  if (!(cfn instanceof CfnDeploymentConfig)) return;
  const routing = Stack.of(cfn).resolve(cfn.trafficRoutingConfig) as
    | { type?: string; timeBasedCanary?: { canaryInterval: unknown; canaryPercentage: unknown }; timeBasedLinear?: { linearInterval: unknown; linearPercentage: unknown } }
    | undefined;
  const step = routing?.timeBasedCanary
    ? { kind: 'canary', interval: routing.timeBasedCanary.canaryInterval, percentage: routing.timeBasedCanary.canaryPercentage }
    : routing?.timeBasedLinear
      ? { kind: 'linear', interval: routing.timeBasedLinear.linearInterval, percentage: routing.timeBasedLinear.linearPercentage }
      : undefined;
  if (!step) return;
  // The construct path goes in the error's constructPath (the message's prefix), and in front of the warning.
  const where = `deploymentGroup ${group.node.path} uses deployment configuration ${config.node.path}`;
  const context = { constructPath: scope.node.path, prop: 'target' };
  if (typeof step.interval !== 'number' || typeof step.percentage !== 'number') {
    Annotations.of(scope).addWarningV2(
      'cdk-rollback-triggers:deploymentShapeUnchecked',
      `${scope.node.path}: ${where}, whose ${step.kind} interval or percentage is known only at deploy time: could not check it against CodeDeploy's limits.`,
    );
    return;
  }
  const maxPercent = platform === 'lambda' ? MAX_LAMBDA_STEP_PERCENT : 100;
  if (!Number.isInteger(step.percentage) || step.percentage < 1 || step.percentage > maxPercent) {
    throw new RollbackTriggersError(
      'RT328',
      `${where}, a ${step.kind} step of ${formatNumber(step.percentage)} %: CodeDeploy takes a whole percentage from 1 to ${maxPercent}` +
        `${platform === 'lambda' ? ' per increment (CodeDeploy quotas)' : ''} — use an integer percentage in that range, or an all-at-once configuration`,
      context,
    );
  }
  if (!Number.isInteger(step.interval) || step.interval < 1) {
    throw new RollbackTriggersError('RT328', `${where}, a ${step.kind} interval of ${formatNumber(step.interval)} min: CodeDeploy takes whole minutes of at least 1`, context);
  }
  // Canary: the second shift comes one interval after the first. Linear: ceil(100 / step) shifts,
  // one interval apart (the lower reading: a config refused here is beyond the limit either way).
  const shiftMinutes = step.kind === 'canary' ? step.interval : (Math.ceil(100 / step.percentage) - 1) * step.interval;
  if (platform === 'lambda' && shiftMinutes > MAX_LAMBDA_SHIFT_MINUTES) {
    throw new RollbackTriggersError(
      'RT328',
      `${where}, which shifts traffic over ${shiftMinutes} minutes (${step.kind}, ${step.percentage} % every ${step.interval} min): CodeDeploy allows at most ` +
        `${MAX_LAMBDA_SHIFT_MINUTES} minutes between the first and the last traffic shift of a Lambda deployment (CodeDeploy quotas) — use a shorter interval or a larger step`,
      context,
    );
  }
}

/**
 * Alarms a deployment group carries besides the trigger's, checked at synth (users may add alarms
 * after the trigger). A composite alarm is refused (RT327): CodeDeploy documents its alarms as
 * CloudWatch alarms it polls and never says whether a composite one is honoured (DESIGN.md), and
 * CloudWatch's DescribeAlarms returns "only metric alarms ... even if composite alarms exist in the
 * account" unless asked for composites (DescribeAlarms `AlarmTypes`, CloudWatch API reference). An
 * alarm imported by name cannot be told apart and is warned about.
 */
export function compositeAlarmsOfGroup(scope: Construct, cfn: CfnDeploymentGroup): string[] {
  const stack = Stack.of(cfn);
  const config = stack.resolve(cfn.alarmConfiguration) as { alarms?: Array<{ name?: unknown }> } | undefined;
  const errors: string[] = [];
  const unknown: string[] = [];
  const all = stack.node.root.node.findAll();
  const groupPath = cfn.node.scope?.node.path ?? cfn.node.path;
  for (const { name } of config?.alarms ?? []) {
    let found: IConstruct | undefined;
    if (typeof name === 'string') {
      found = all.find((c) => (c instanceof CfnAlarm || c instanceof CfnCompositeAlarm) && !Token.isUnresolved(c.alarmName) && c.alarmName === name);
    } else if (name && typeof name === 'object' && typeof (name as { Ref?: unknown }).Ref === 'string') {
      found = elementByLogicalId(stack, (name as { Ref: string }).Ref);
    }
    if (found instanceof CfnCompositeAlarm) {
      errors.push(
        errorText(
          'RT327',
          `deployment group ${groupPath} carries composite alarm ${found.node.scope?.node.path ?? found.node.path}: CodeDeploy does not document that it honours ` +
            'composite alarms (CloudWatch DescribeAlarms returns only metric alarms unless asked for composites), so it may never stop a deployment — ' +
            'attach its metric alarms to the deployment group instead',
        ),
      );
    } else if (!(found instanceof CfnAlarm)) {
      unknown.push(typeof name === 'string' ? `"${name}"` : JSON.stringify(name));
    }
  }
  if (unknown.length > 0) {
    Annotations.of(scope).addWarningV2(
      'cdk-rollback-triggers:importedAlarmUnchecked',
      `Deployment group ${groupPath} carries alarms defined outside this app (${unknown.join(', ')}): could not check that they are metric alarms. ` +
        'CodeDeploy does not document that it honours composite alarms; attach metric alarms only.',
    );
  }
  return errors;
}


/**
 * The audit bus and the notification topic must live where the trigger's functions and rules do:
 * the handlers put events by bus name in their own Region and account, the notices rule is created
 * on the bus (rules live in the bus's account and Region), and CloudWatch alarm actions and
 * EventBridge SNS targets publish to a topic of their own Region (RT330).
 */
export function checkAuditDestinations(scope: Construct, auditBus: IEventBus | undefined, topic: ITopic | undefined): void {
  const here = Stack.of(scope);
  const unchecked: string[] = [];
  const check = (prop: string, resource: IEventBus | ITopic, what: Array<'region' | 'account'>) => {
    for (const field of what) {
      const theirs = resource.env[field];
      const ours = here[field];
      if (theirs === ours) continue;
      if (Token.isUnresolved(theirs) || Token.isUnresolved(ours)) {
        unchecked.push(`the ${field} of ${prop} ${resource.node.path}`);
        continue;
      }
      throw new RollbackTriggersError(
        'RT330',
        `${prop} ${resource.node.path} is in ${field} ${theirs}, the trigger in ${ours}: ` +
          (prop === 'auditBus'
            ? 'its handlers put audit events by bus name in their own Region and account, and the notices rule is created on the bus — '
            : 'CloudWatch alarm actions and EventBridge rules publish to a topic of their own Region — ') +
          `pass a ${prop === 'auditBus' ? 'bus' : 'topic'} of ${field} ${ours}${prop === 'auditBus' ? ' (forward events to other Regions with a rule whose target is the remote bus)' : ''}`,
        { constructPath: scope.node.path, prop },
      );
    }
  };
  if (auditBus) check('auditBus', auditBus, ['region', 'account']);
  if (topic) check('notificationTopic', topic, ['region']);
  if (unchecked.length > 0) {
    Annotations.of(scope).addWarningV2(
      'cdk-rollback-triggers:auditDestinationUnchecked',
      `Could not check ${unchecked.join(' and ')} (known only at deploy time): it must be this stack's own.`,
    );
  }
}

/**
 * Whether a deployment group's role can invoke the hook function, where synth can tell: a role of
 * this app gets the grant (aws-cdk-lib for a Lambda group's hooks; the trigger for an ECS group's
 * AppSpec hook); an imported role only when it was imported mutable (a policy is then attached to
 * it). Otherwise warn with the permission to add (`hookInvokeUnchecked`).
 */
export function warnUnlessRoleMayInvoke(scope: Construct, groupPath: string, role: IRole, hookArn: string): void {
  if (Resource.isOwnedResource(role) || role.node.tryFindChild('Policy') !== undefined) return;
  Annotations.of(scope).addWarningV2(
    'cdk-rollback-triggers:hookInvokeUnchecked',
    `The role of deployment group ${groupPath} (${role.node.path}) is imported and takes no policy from this app: could not check that CodeDeploy may invoke the hook. ` +
      `Allow lambda:InvokeFunction on ${Token.isUnresolved(hookArn) ? "the trigger's hookFunction" : hookArn}, or every deployment fails at its first hook.`,
  );
}
