import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, CloudFormationValidatePlugin, Stack, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { Metric, Stats } from 'aws-cdk-lib/aws-cloudwatch';
import { LambdaDeploymentConfig, LambdaDeploymentGroup, type LambdaDeploymentGroupProps } from 'aws-cdk-lib/aws-codedeploy';
import { Alias, Code, Function, Runtime } from 'aws-cdk-lib/aws-lambda';
import { ServiceLevelObjective, Sli } from '../lib';
import { AwsSolutionsChecks, NIST80053R5Checks, ServerlessChecks } from 'cdk-nag';

export function newStack(id = 'TestStack'): Stack {
  return new Stack(new App(), id);
}

export function lambdaFunction(stack: Stack, id = 'Fn'): Function {
  return new Function(stack, id, { runtime: Runtime.NODEJS_24_X, handler: 'index.handler', code: Code.fromInline('exports.handler = async () => 1;') });
}

export function liveAlias(stack: Stack, fn: Function = lambdaFunction(stack)): Alias {
  return new Alias(stack, `${fn.node.id}Live`, { aliasName: 'live', version: fn.currentVersion });
}

/**
 * A function, its `live` alias and a deployment group releasing it 10 % canary (5 minutes unless
 * `groupProps` says otherwise) that rolls back on failure, stop and alarm, as RollbackTrigger
 * requires (RT303).
 */
export function lambdaCanaryGroup(stack: Stack, groupProps: Partial<LambdaDeploymentGroupProps> = {}) {
  const fn = lambdaFunction(stack);
  const alias = new Alias(stack, 'Live', { aliasName: 'live', version: fn.currentVersion });
  const group = new LambdaDeploymentGroup(stack, 'Group', {
    alias,
    deploymentConfig: LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES,
    autoRollback: { failedDeployment: true, stoppedDeployment: true, deploymentInAlarm: true },
    ...groupProps,
  });
  return { fn, alias, group };
}

/** A Lambda alias released 10 % canary by a deployment group that rolls back, and a 99.9 % SLO on it. */
export function lambdaCanary(stack: Stack = newStack(), groupProps: Partial<LambdaDeploymentGroupProps> = {}) {
  const { fn, alias, group } = lambdaCanaryGroup(stack, groupProps);
  const slo = new ServiceLevelObjective(stack, 'Availability', { sli: Sli.lambdaAvailability(alias), objectivePercent: 99.9 });
  return { stack, fn, alias, group, slo };
}

export function countMetric(metricName: string, namespace = 'Shop'): Metric {
  return new Metric({ namespace, metricName, statistic: Stats.SUM });
}

type Resources = Record<string, { Type: string; Properties: Record<string, any> }>;

export function resourcesOfType(stack: Stack, type: string): Resources {
  return Template.fromStack(stack).findResources(type) as Resources;
}

/** The long/short window alarms of a stack keyed by logical id. */
export function metricAlarms(stack: Stack): Resources {
  return resourcesOfType(stack, 'AWS::CloudWatch::Alarm');
}

export function compositeAlarms(stack: Stack): Resources {
  return resourcesOfType(stack, 'AWS::CloudWatch::CompositeAlarm');
}

export interface Violation {
  readonly plugin: string;
  readonly rule: string;
  readonly severity: string;
  readonly paths: string[];
  readonly description: string;
}

/**
 * An App that synthesizes to a temp dir with aws-cdk-lib's CloudFormationValidatePlugin (default
 * rules: offline resource-schema checks) and the cdk-nag packs a user is likely to apply:
 * AwsSolutions, Serverless and NIST 800-53 rev 5. `report()` synthesizes once and returns every
 * unacknowledged finding of any severity.
 */
export function validationApp(): { app: App; report: () => Violation[] } {
  const outdir = mkdtempSync(join(tmpdir(), 'rt-validate-'));
  const app = new App({ outdir });
  Validations.of(app).addPlugins(
    new CloudFormationValidatePlugin({ includeDefaultRules: true }),
    new AwsSolutionsChecks(app),
    new ServerlessChecks(app),
    new NIST80053R5Checks(app),
  );
  const report = (): Violation[] => {
    try {
      app.synth();
    } catch (e) {
      // Under vitest (NODE_ENV=test) synth throws ValidationFailed with the report as its message.
      if ((e as Error).name !== 'ValidationFailed' && !/Validation failed/.test(String((e as Error).message))) throw e;
    }
    try {
      const parsed = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as {
        pluginReports: Array<{ pluginName: string; violations: Array<{ ruleName: string; severity: string; description: string; violatingConstructs: Array<{ constructPath: string }> }> }>;
      };
      return parsed.pluginReports.flatMap((p) =>
        p.violations.map((v) => ({
          plugin: p.pluginName,
          rule: v.ruleName,
          severity: v.severity,
          description: v.description,
          paths: v.violatingConstructs.map((c) => c.constructPath),
        })),
      );
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  };
  return { app, report };
}
