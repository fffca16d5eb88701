import { App, Stack } from 'aws-cdk-lib';
import { Duration } from 'aws-cdk-lib';
import { EcsDeploymentConfig, LambdaDeploymentConfig, TrafficRouting } from 'aws-cdk-lib/aws-codedeploy';
import { describe, expect, it } from 'vitest';
import { trafficShiftOf } from '../../lib/private/traffic-shift';

// The rollback alarms weigh the new version at its first step's share (lib/core/relative-alarm.ts):
// the share must come from the deployment configuration CodeDeploy runs, or not at all.
describe('trafficShiftOf', () => {
  it('reads the predefined canary and linear configurations by name, and nothing from all at once', () => {
    expect(trafficShiftOf(LambdaDeploymentConfig.CANARY_10PERCENT_5MINUTES)).toEqual({ kind: 'canary', share: 0.1 });
    expect(trafficShiftOf(LambdaDeploymentConfig.LINEAR_10PERCENT_EVERY_3MINUTES)).toEqual({ kind: 'linear', share: 0.1 });
    expect(trafficShiftOf(EcsDeploymentConfig.CANARY_10PERCENT_15MINUTES)).toEqual({ kind: 'canary', share: 0.1 });
    expect(trafficShiftOf(EcsDeploymentConfig.LINEAR_10PERCENT_EVERY_1MINUTES)).toEqual({ kind: 'linear', share: 0.1 });
    expect(trafficShiftOf(LambdaDeploymentConfig.ALL_AT_ONCE)).toBeUndefined();
    expect(trafficShiftOf(EcsDeploymentConfig.ALL_AT_ONCE)).toBeUndefined();
  });

  it('reads a configuration defined in the app from its traffic routing, and nothing from an imported one', () => {
    const stack = new Stack(new App(), 'S');
    const canary = new LambdaDeploymentConfig(stack, 'Canary', { trafficRouting: TrafficRouting.timeBasedCanary({ interval: Duration.minutes(5), percentage: 25 }) });
    const linear = new LambdaDeploymentConfig(stack, 'Linear', { trafficRouting: TrafficRouting.timeBasedLinear({ interval: Duration.minutes(2), percentage: 5 }) });
    const named = new EcsDeploymentConfig(stack, 'Named', { deploymentConfigName: 'team-canary', trafficRouting: TrafficRouting.timeBasedCanary({ interval: Duration.minutes(5), percentage: 20 }) });
    expect(trafficShiftOf(canary)).toEqual({ kind: 'canary', share: 0.25 });
    expect(trafficShiftOf(linear)).toEqual({ kind: 'linear', share: 0.05 });
    expect(trafficShiftOf(named)).toEqual({ kind: 'canary', share: 0.2 });
    expect(trafficShiftOf(LambdaDeploymentConfig.fromLambdaDeploymentConfigName(stack, 'Imported', 'team-linear'))).toBeUndefined();
    expect(trafficShiftOf(new LambdaDeploymentConfig(stack, 'AllAtOnce', { trafficRouting: TrafficRouting.allAtOnce() }))).toBeUndefined();
  });
});
