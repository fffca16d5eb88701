/**
 * Reading an SloDashboard's DashboardBody back: CloudFormation receives it as an Fn::Join of JSON
 * text and intrinsics (the alarm ARNs, the function names); each intrinsic becomes a placeholder
 * string (`${Ref:Fn9270CBC0}`, `${GetAtt:RollbackDeadLettersAlarmC8674F3C.Arn}`) and the text is
 * parsed as the JSON CloudWatch will read.
 */
import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import type { CfnDashboard } from 'aws-cdk-lib/aws-cloudwatch';
import { expect } from 'vitest';
import type { SloDashboard } from '../../lib';

export interface Widget {
  readonly type: 'metric' | 'alarm' | 'log' | 'text';
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly properties: Record<string, any>;
}

export interface Body {
  readonly start?: string;
  readonly periodOverride?: string;
  readonly widgets: Widget[];
}

/** An intrinsic as a placeholder that needs no escaping inside a JSON string. */
export function placeholder(token: unknown): string {
  const t = token as Record<string, any>;
  if (t.Ref !== undefined) return `\${Ref:${t.Ref}}`;
  if (t['Fn::GetAtt'] !== undefined) return `\${GetAtt:${t['Fn::GetAtt'].join('.')}}`;
  throw new Error(`unexpected intrinsic in the dashboard body: ${JSON.stringify(token)}`);
}

/**
 * The dashboard's body text with placeholders for intrinsics, from the synthesized template; with
 * `resolveOnly`, resolved from the construct without synthesizing the app (no aspects, so no
 * discovery, and no validation): for a stack whose synth is slow.
 */
export function bodyText(stack: Stack, dashboard: SloDashboard, resolveOnly = false): string {
  const cfn = dashboard.dashboard.node.defaultChild as CfnDashboard;
  let body: any;
  if (resolveOnly) {
    body = stack.resolve(cfn.dashboardBody);
  } else {
    const resource = Template.fromStack(stack).toJSON().Resources[stack.getLogicalId(cfn)];
    expect(resource?.Type).toBe('AWS::CloudWatch::Dashboard');
    body = resource.Properties.DashboardBody;
  }
  if (typeof body === 'string') return body;
  const [separator, parts] = body['Fn::Join'] as [string, unknown[]];
  return parts.map((p) => (typeof p === 'string' ? p : placeholder(p))).join(separator);
}

export function dashboardBody(stack: Stack, dashboard: SloDashboard, resolveOnly = false): Body {
  return JSON.parse(bodyText(stack, dashboard, resolveOnly)) as Body;
}

export function widgetsOfType(body: Body, type: Widget['type']): Widget[] {
  return body.widgets.filter((w) => w.type === type);
}

/** One row of a metric widget's `metrics`, split into what it queries and its options. */
export interface MetricRow {
  readonly expression?: string;
  readonly id?: string;
  readonly label?: string;
  readonly period?: number;
  readonly visible?: boolean;
  /** `[namespace, name, dimension name, value, …]` of a metric; empty for an expression. */
  readonly metric: string[];
}

export function rowsOf(widget: Widget): MetricRow[] {
  return (widget.properties.metrics as unknown[][]).map((row) => {
    const last = row[row.length - 1];
    const options = typeof last === 'object' && last !== null ? (last as Record<string, any>) : {};
    const metric = (typeof last === 'object' ? row.slice(0, -1) : row) as string[];
    return { ...options, metric } as MetricRow;
  });
}

/** The period a row is read at: its own, else the widget's, else CloudWatch's default of 300 s. */
export function periodOf(widget: Widget, row: MetricRow): number {
  return row.period ?? widget.properties.period ?? 300;
}

/** The intrinsic of a construct's ARN as the body's placeholders write it. */
export function arnPlaceholder(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return `\${GetAtt:${stack.getLogicalId(construct.node.defaultChild as any)}.Arn}`;
}

export function refPlaceholder(stack: Stack, construct: { node: { defaultChild?: unknown } }): string {
  return `\${Ref:${stack.getLogicalId(construct.node.defaultChild as any)}}`;
}
