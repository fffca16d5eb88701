import { Duration, Stack, StackProps } from 'aws-cdk-lib';
import { ComparisonOperator, Metric, Stats, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { SnsAction } from 'aws-cdk-lib/aws-cloudwatch-actions';
import { ServicePrincipal } from 'aws-cdk-lib/aws-iam';
import { Key } from 'aws-cdk-lib/aws-kms';
import { Alias } from 'aws-cdk-lib/aws-lambda';
import { Topic } from 'aws-cdk-lib/aws-sns';
import { Construct } from 'constructs';
import { AlertSeverity, ServiceLevelObjective, Sli, ThresholdTrigger } from '../lib';
import { apiFunction } from './api-function';

/**
 * A checkout API on Lambda behind a `live` alias, with the SLOs a team would declare for it:
 * availability, latency, a business SLO on payments, and two threshold triggers.
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

    this.availability = new ServiceLevelObjective(this, 'Availability', {
      sli: Sli.lambdaAvailability(live),
      objectivePercent: 99.9,
      suppressTicketsWhilePaging: true,
      ...alerting,
    });

    new ServiceLevelObjective(this, 'Latency', {
      sli: Sli.lambdaLatency(live, Duration.millis(300)),
      objectivePercent: 99,
      ...alerting,
    });

    const payments = (metricName: string) => new Metric({ namespace: 'Checkout', metricName, statistic: Stats.SUM });
    new ServiceLevelObjective(this, 'Payments', {
      sli: Sli.businessFailureRatio({
        failures: payments('PaymentsFailed'),
        attempts: payments('PaymentsAttempted'),
        description: 'failed payments / attempted payments',
      }),
      objectivePercent: 99.5,
      ...alerting,
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
  }
}
