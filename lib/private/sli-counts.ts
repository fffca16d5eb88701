import { IMetric } from 'aws-cdk-lib/aws-cloudwatch';

/** The metrics an SLI divides: `bad` or `good` (exactly one) over `total`. */
export interface SliCounts {
  readonly bad?: IMetric;
  readonly good?: IMetric;
  readonly total: IMetric;
}
