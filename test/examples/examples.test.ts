import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { CheckoutServiceStack } from '../../examples/checkout-service';
import { lambdaFunction, validationApp } from '../helpers';

describe('example: checkout service', () => {
  it('passes CloudFormation schema validation and cdk-nag AwsSolutions, Serverless and NIST 800-53 rev 5 with no unacknowledged finding', () => {
    const { app, report } = validationApp();
    new CheckoutServiceStack(app, 'CheckoutService');
    expect(report()).toEqual([]);
  });

  it('carries the four workbook tiers with their factors on the availability SLO', () => {
    const { app } = validationApp();
    const stack = new CheckoutServiceStack(app, 'CheckoutService');
    const alarms = Object.values(Template.fromStack(stack).findResources('AWS::CloudWatch::Alarm'));
    const availability = alarms.filter((a) => String(a.Properties.AlarmDescription).startsWith('SLO Availability'));
    expect(availability.map((a) => a.Properties.Threshold)).toEqual([14.4, 14.4, 6, 6, 3, 3, 1, 1]);
    expect(stack.availability.pageAlarm).toBeDefined();
  });
});

describe('the examples\' cdk-nag check', () => {
  it('applies all three packs: a bare function draws findings from each, so an example\'s zero is earned', () => {
    const { app, report } = validationApp();
    lambdaFunction(new Stack(app, 'Bare'));
    expect(new Set(report().map((v) => v.plugin))).toEqual(new Set(['AwsSolutions', 'Serverless', 'NIST.800.53.R5']));
  });
});
