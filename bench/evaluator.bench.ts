/**
 * Evaluator benchmark: bundle size, module initialisation time (measured locally against an empty
 * Node.js start in the same run), and GetMetricData calls per bake tick for 1 and 20 SLOs.
 *
 *   npx tsx bench/evaluator.bench.ts [--json]
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { CloudWatchClient, GetMetricDataCommand } from '@aws-sdk/client-cloudwatch';
import {
  BatchGetDeploymentTargetsCommand,
  CodeDeployClient,
  GetDeploymentCommand,
  ListDeploymentTargetsCommand,
  PutLifecycleEventHookExecutionStatusCommand,
} from '@aws-sdk/client-codedeploy';
import { DynamoDBClient, GetItemCommand, PutItemCommand, UpdateItemCommand } from '@aws-sdk/client-dynamodb';
import { ECSClient } from '@aws-sdk/client-ecs';
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { LambdaClient } from '@aws-sdk/client-lambda';
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics } from '@aws-lambda-powertools/metrics';
import { mockClient } from 'aws-sdk-client-mock';
import { createHandler } from '../lambda/evaluator';
import { EvaluatorConfig } from '../lib/core';

const bundle = join(__dirname, '..', 'assets', 'evaluator', 'index.js');

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

/** Wall time of `node -e script`, repeated and interleaved with the empty baseline. */
function initTimes(repetitions: number): { baselineMs: number; bundleMs: number } {
  const run = (script: string) => {
    const start = process.hrtime.bigint();
    execFileSync(process.execPath, ['-e', script], { stdio: 'ignore' });
    return Number(process.hrtime.bigint() - start) / 1e6;
  };
  const baseline: number[] = [];
  const loaded: number[] = [];
  for (let i = 0; i < repetitions; i++) {
    baseline.push(run(''));
    loaded.push(run(`require(${JSON.stringify(bundle)})`));
  }
  return { baselineMs: median(baseline), bundleMs: median(loaded) };
}

function config(sloCount: number): EvaluatorConfig {
  return {
    schemaVersion: 1,
    platform: 'lambda',
    bakeSeconds: 600,
    tickSeconds: 60,
    inconclusiveAction: 'fail',
    deadlineMarginSeconds: 300,
    metricDelaySeconds: 180,
    compareWithBaseline: false,
    dimensionSets: [{ FunctionName: 'checkout', Resource: 'checkout:live' }],
    slos: Array.from({ length: sloCount }, (_, i) => ({
      name: `slo-${i}`,
      errorBudget: 0.001,
      failBurnRate: 14.4,
      shortWindowSeconds: 300,
      minEvents: 70,
      numeratorKind: 'bad' as const,
      numerator: { namespace: 'AWS/Lambda', metricName: 'Errors', dimensionSet: 0, stat: 'Sum' },
      total: { namespace: 'AWS/Lambda', metricName: 'Invocations', dimensionSet: 0, stat: 'Sum' },
    })),
  };
}

/** Runs one bake tick against mocked AWS and counts GetMetricData calls and queries. */
async function callsPerTick(sloCount: number): Promise<{ calls: number; queries: number }> {
  const creds = { region: 'us-east-1', credentials: { accessKeyId: 'x', secretAccessKey: 'y' } };
  const cd = mockClient(CodeDeployClient);
  const cw = mockClient(CloudWatchClient);
  const ddb = mockClient(DynamoDBClient);
  const eb = mockClient(EventBridgeClient);
  const start = new Date('2026-11-27T10:00:00Z');
  cd.on(GetDeploymentCommand).resolves({ deploymentInfo: { status: 'InProgress', creator: 'user', createTime: start, applicationName: 'a', deploymentGroupName: 'g' } });
  cd.on(ListDeploymentTargetsCommand).resolves({ targetIds: ['checkout'] });
  cd.on(BatchGetDeploymentTargetsCommand).resolves({
    deploymentTargets: [
      {
        lambdaTarget: {
          lambdaFunctionInfo: { functionName: 'checkout', currentVersion: '1', targetVersion: '2' },
          lifecycleEvents: [{ lifecycleEventName: 'AfterAllowTraffic', status: 'InProgress' }],
        },
      },
    ],
  });
  cd.on(PutLifecycleEventHookExecutionStatusCommand).resolves({});
  cw.on(GetMetricDataCommand).resolves({ MetricDataResults: [] });
  ddb.on(PutItemCommand).resolves({});
  ddb.on(GetItemCommand).resolves({});
  ddb.on(UpdateItemCommand).resolves({});
  eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
  // Ten minutes into the deployment, so the tick has minutes of data to ask for.
  let now = start.getTime() / 1000 + 600;
  const handler = createHandler({
    config: config(sloCount),
    stateTable: 't',
    eventBus: 'b',
    codedeploy: new CodeDeployClient(creds),
    cloudwatch: new CloudWatchClient(creds),
    dynamodb: new DynamoDBClient(creds),
    lambda: new LambdaClient(creds),
    ecs: new ECSClient(creds),
    events: new EventBridgeClient(creds),
    logger: new Logger({ logLevel: 'SILENT' }),
    metrics: new Metrics({ namespace: 'bench' }),
    now: () => now,
    sleep: async (ms) => {
      now += ms / 1000;
    },
  });
  // A remaining time just above one tick: the handler runs exactly one tick, then hands over.
  await handler({ DeploymentId: 'd-1', LifecycleEventHookExecutionId: 'h-1' }, { getRemainingTimeInMillis: () => 100_000, invokedFunctionArn: 'arn' });
  const calls = cw.commandCalls(GetMetricDataCommand);
  const result = { calls: calls.length, queries: calls.reduce((n, c) => n + (c.args[0].input.MetricDataQueries?.length ?? 0), 0) };
  for (const m of [cd, cw, ddb, eb]) m.restore();
  return result;
}

async function main(): Promise<void> {
  const size = statSync(bundle).size;
  const gzip = gzipSync(readFileSync(bundle)).length;
  const init = initTimes(15);
  const ticks = [await callsPerTick(1), await callsPerTick(20)];
  const result = {
    bundleBytes: size,
    bundleGzipBytes: gzip,
    nodeStartMs: Number(init.baselineMs.toFixed(1)),
    nodeStartWithBundleMs: Number(init.bundleMs.toFixed(1)),
    moduleInitMs: Number((init.bundleMs - init.baselineMs).toFixed(1)),
    getMetricDataPerTick: { slos1: ticks[0], slos20: ticks[1] },
  };
  if (process.argv.includes('--json')) {
    console.log(JSON.stringify(result, null, 2));
    return;
  }
  console.log('cdk-rollback-triggers evaluator benchmark');
  console.log(`bundle            ${(size / 1024).toFixed(1)} kB minified (${(gzip / 1024).toFixed(1)} kB gzip), @aws-sdk/* external (the Lambda runtime ships SDK v3)`);
  console.log(`module init       ${result.moduleInitMs} ms (node start ${result.nodeStartMs} ms, with the bundle ${result.nodeStartWithBundleMs} ms; medians of 15, interleaved)`);
  console.log(`GetMetricData     1 SLO: ${ticks[0].calls} call(s) / ${ticks[0].queries} queries per tick; 20 SLOs: ${ticks[1].calls} call(s) / ${ticks[1].queries} queries per tick`);
}

void main();
