import { Stack } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';

const PSEUDO: Record<string, string> = { 'AWS::Partition': 'aws', 'AWS::Region': 'us-east-1', 'AWS::AccountId': '123456789012', 'AWS::URLSuffix': 'amazonaws.com' };

/** Resolves the CloudFormation intrinsics CDK leaves in a definition string to plausible values. */
function resolve(value: unknown): string {
  if (typeof value === 'string') return value;
  const v = value as Record<string, unknown>;
  if ('Fn::Join' in v) {
    const [sep, parts] = v['Fn::Join'] as [string, unknown[]];
    return parts.map(resolve).join(sep);
  }
  if ('Ref' in v) return PSEUDO[v.Ref as string] ?? String(v.Ref);
  if ('Fn::GetAtt' in v) {
    const [id, attr] = v['Fn::GetAtt'] as [string, string];
    if (attr === 'Arn') return `arn:aws:lambda:us-east-1:123456789012:function:${id}`;
    return `${id}.${attr}`;
  }
  throw new Error(`cannot resolve ${JSON.stringify(value)} in the state machine definition`);
}

/**
 * The synthesized ASL of the stack's bake state machine (or of the one whose logical id contains
 * `idPart`), as Step Functions would receive it.
 */
export function synthesizedDefinition(stack: Stack, idPart = 'Bake'): Record<string, unknown> {
  const machines = Template.fromStack(stack).findResources('AWS::StepFunctions::StateMachine');
  const entries = Object.entries(machines).filter(([id]) => id.includes(idPart));
  if (entries.length !== 1) throw new Error(`expected one state machine with "${idPart}" in its logical id, found ${entries.map(([id]) => id).join(', ') || 'none'}`);
  return JSON.parse(resolve((entries[0][1] as { Properties: { DefinitionString: unknown } }).Properties.DefinitionString));
}
