import { Duration, Stack, StackProps } from 'aws-cdk-lib';
import { ComparisonOperator, Metric, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Alias } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AlarmLayout, AlertSeverity, ServiceLevelObjective, ServiceLevelObjectiveGroup, Sli, SloDashboard, ThresholdTrigger } from '../lib';
import { apiFunction } from './api-function';

/**
 * A checkout API on Lambda behind a `live` alias, with the SLOs a team would declare for it:
 * availability (also an Application Signals SLO), latency and a business SLO on payments (sharing
 * one page and one ticket alarm), and two threshold triggers.
 */
export class CheckoutServiceStack extends Stack {
  public readonly availability: ServiceLevelObjective;

  constructor(scope: Construct, id: string, props?: StackProps) {
    super(scope, id, props);

    const handler = apiFunction(this, 'CheckoutFunction', 'Example checkout API');
    const live = new Alias(this, 'Live', { aliasName: 'live', version: handler.currentVersion });

    // CloudWatch publishes to an encrypted topic only with a customer managed key it may use.
    const key = new Key(this, 'AlertsKey', { enableKeyRotation: true, description: 'Encrypts the SLO alert topics' });
    key.grant(new ServicePrincipal('cloudwatch.amazonaws.com'), 'kms:Decrypt', 'kms:GenerateDataKey*');
    const pages = new Topic(this, 'Pages', { enforceSSL: true, masterKey: key });
    const tickets = new Topic(this, 'Tickets', { enforceSSL: true, masterKey: key });
    const alerting = { pageActions: [new SnsAction(pages)], ticketActions: [new SnsAction(tickets)] };

    // Availability is also an Application Signals SLO, shown in the CloudWatch console's SLO page.
    this.availability = new ServiceLevelObjective(this, 'Availability', {
      sli: Sli.lambdaAvailability(live),
      objectivePercent: 99.9,
      suppressTicketsWhilePaging: true,
      alarmLayout: AlarmLayout.NATIVE,
      ...alerting,
    });

    // Latency and payments share one page and one ticket alarm: two composites for both SLOs.
    const shared = new ServiceLevelObjectiveGroup(this, 'CheckoutAlerts', { groupName: 'Checkout', ...alerting });
    new ServiceLevelObjective(this, 'Latency', {
      sli: Sli.lambdaLatency(live, Duration.millis(300)),
      objectivePercent: 99,
      group: shared,
    });

    const payments = (metricName: string) => new Metric({ namespace: 'Checkout', metricName, statistic: Stats.SUM });
    new ServiceLevelObjective(this, 'Payments', {
      sli: Sli.businessFailureRatio({
        failures: payments('PaymentsFailed'),
        attempts: payments('PaymentsAttempted'),
        description: 'failed payments / attempted payments',
      }),
      objectivePercent: 99.5,
      group: shared,
    });

    new ThresholdTrigger(this, 'P99Latency', {
      metric: live.metric('Duration', { statistic: Stats.p(99) }),
      comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
      threshold: 1_000,
      evaluationPeriods: 5,
      datapointsToAlarm: 3,
      actions: [new SnsAction(pages)],
    });

    new ThresholdTrigger(this, 'AgentConfidence', {
      metric: new Metric({ namespace: 'Checkout', metricName: 'FraudAgentConfidence', statistic: Stats.AVERAGE }),
      comparisonOperator: ComparisonOperator.LESS_THAN_THRESHOLD,
      threshold: 0.7,
      evaluationPeriods: 3,
      treatMissingData: TreatMissingData.NOT_BREACHING,
      severity: AlertSeverity.TICKET,
      actions: [new SnsAction(tickets)],
    });

    // One CloudWatch dashboard with every SLO of the stack: burn rate per window against the tier
    // thresholds, and the error budget left.
    new SloDashboard(this, 'Dashboard', { discover: true });
  }
}
