import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaCanaryStack } from '../../examples/lambda-canary';
import { CheckedEntry, checkStackPolicy } from '../../lib/cli/policy-metadata';
import { POLICY_METADATA_TYPE } from '../../lib/core';
import { tempDir } from './simulate-helpers';

/**
 * The checks that span a stack's entries (`checkStackPolicy`), message by message, on the entries
 * LambdaCanary synthesizes: two SLOs (Availability, Latency) and a rollback trigger on both.
 */

let asm: ReturnType<typeof tempDir>;
let synthesized: CheckedEntry[];

beforeAll(() => {
  asm = tempDir('rt-stack-policy-');
  const app = new App({ outdir: asm.dir });
  new LambdaCanaryStack(app, 'LambdaCanary');
  app.synth();
  const doc = JSON.parse(readFileSync(join(asm.dir, 'LambdaCanary.metadata.json'), 'utf8')) as Record<string, Array<{ type: string; data: { entry: CheckedEntry['entry'] } }>>;
  synthesized = Object.entries(doc).flatMap(([path, list]) =>
    list.filter((m) => m.type === POLICY_METADATA_TYPE).map((m) => ({ entry: m.data.entry, at: { file: 'LambdaCanary.metadata.json', where: `["${path}"][0]` } })),
  );
});
afterAll(() => asm?.remove());

const DERIVED = 'the policy is computed at synth from the app: change the app and run "cdk synth" again rather than editing cdk.out';

/** The entries with one of them edited: `Availability`, `Latency` or `Rollback`. */
function edited(name: string, edit: (e: any) => void): CheckedEntry[] {
  return synthesized.map((c) => {
    if (c.entry.name !== name) return c;
    const entry = structuredClone(c.entry);
    edit(entry);
    return { entry, at: c.at };
  });
}

/** The message `checkStackPolicy` throws, with the file and the entry's place stripped. */
function refusal(entries: readonly CheckedEntry[], assembly?: readonly CheckedEntry[]): string {
  try {
    checkStackPolicy(entries, assembly);
  } catch (e) {
    return (e as Error).message;
  }
  return 'accepted';
}

const at = (slo: string) => `LambdaCanary.metadata.json: ["/LambdaCanary/${slo}"][0]: `;

describe('checkStackPolicy', () => {
  it('accepts the entries as synthesized', () => {
    expect(refusal(synthesized)).toBe('accepted');
  });

  it("finds a rollback alarm's SLO in another stack of the assembly", () => {
    const rollback = synthesized.filter((c) => c.entry.kind === 'rollback');
    expect(refusal(rollback)).toBe(
      `${at('Rollback')}field "data.entry.alarms[0].slo": "Availability" is not the name of an SLO of the stack (none) or of the assembly (RT715)`,
    );
    expect(refusal(rollback, synthesized)).toBe('accepted');
  });

  it('refuses an alarm id used twice in the stack, for a window alarm and for a composite', () => {
    expect(refusal(edited('Latency', (e) => (e.alarms[2].id = 'LambdaCanary/Availability/page-1h/long')))).toBe(
      `${at('Latency')}field "data.entry.alarms[2].id": "LambdaCanary/Availability/page-1h/long" is the id of another alarm of the stack; ids are construct paths, unique in a stack (RT715)`,
    );
    expect(refusal(edited('Latency', (e) => (e.composites[1].id = 'LambdaCanary/Availability/page')))).toBe(
      `${at('Latency')}field "data.entry.composites[1].id": "LambdaCanary/Availability/page" is the id of another alarm of the stack; ids are construct paths, unique in a stack (RT715)`,
    );
  });

  it("refuses a window alarm whose metric count is not its SLI's", () => {
    expect(refusal(edited('Availability', (e) => (e.alarms[3].metricCount = 3)))).toBe(
      `${at('Availability')}field "data.entry.alarms[3].metricCount": is 3, the SLI reads 2 metrics (sli.metricCount); ${DERIVED} (RT715)`,
    );
  });

  it("refuses a tier whose alarm has another window or minimum of events than the tier's", () => {
    expect(refusal(edited('Availability', (e) => (e.alarms[1].windowSeconds = 600)))).toBe(
      `${at('Availability')}field "data.entry.tiers[0].shortAlarm": alarm "LambdaCanary/Availability/page-1h/short" has a 600 s window, the tier's short window is 300 s; ${DERIVED} (RT715)`,
    );
    expect(refusal(edited('Availability', (e) => (e.alarms[2].minEvents = 5)))).toBe(
      `${at('Availability')}field "data.entry.tiers[1].longAlarm": alarm "LambdaCanary/Availability/page-6h/long" has minEvents 5, the tier's minEventsPerWindow is 167; ${DERIVED} (RT715)`,
    );
  });

  it('refuses an SLO without its severity composite, or whose severity rule is not its tiers’ (EXACT layout: each tier’s long AND short window)', () => {
    const L = 'LambdaCanary/Latency';
    expect(refusal(edited('Latency', (e) => e.composites.splice(1, 1)))).toBe(
      `${at('Latency')}field "data.entry.composites": has no composite "${L}/ticket" (the OR of the ticket tiers (${L}/ticket-1d/long AND ${L}/ticket-1d/short), ` +
        `(${L}/ticket-3d/long AND ${L}/ticket-3d/short)); ${DERIVED} (RT715)`,
    );
    expect(refusal(edited('Latency', (e) => (e.composites[0].children[1] = { allOf: [`${L}/page-6h/long`] })))).toBe(
      `${at('Latency')}field "data.entry.composites[0]": must be the page composite of kind "severity", the OR of each page tier's long AND short window alarm ` +
        `((${L}/page-1h/long AND ${L}/page-1h/short), (${L}/page-6h/long AND ${L}/page-6h/short)); ${DERIVED} (RT715)`,
    );
  });

  it('refuses a tier composite without its tier, and a child that is no alarm of the stack', () => {
    const extra = (k: object) => (e: any) => e.composites.push({ severity: 'page', operator: 'OR', ...k });
    expect(refusal(edited('Latency', extra({ id: 'LambdaCanary/Latency/page-2h', kind: 'tier', children: ['LambdaCanary/Latency/page-1h/long'] })))).toBe(
      `${at('Latency')}field "data.entry.composites": holds a tier composite, but the exact layout has none (its severity rules hold the tiers); ${DERIVED} (RT715)`,
    );
    expect(refusal(edited('Latency', extra({ id: 'LambdaCanary/Latency/extra', kind: 'severity', children: ['LambdaCanary/Latency/page-1h/long', 'nope'] })))).toBe(
      `${at('Latency')}field "data.entry.composites[2].children[1]": "nope" is not the id of an alarm or composite of the stack (RT715)`,
    );
    expect(
      refusal(edited('Latency', extra({ id: 'LambdaCanary/Latency/extra', kind: 'severity', children: [{ allOf: ['LambdaCanary/Latency/page-1h/long', 'nope'] }] }))),
    ).toBe(`${at('Latency')}field "data.entry.composites[2].children[0]": "nope" is not the id of an alarm or composite of the stack (RT715)`);
  });

  it("refuses a rollback alarm on a tier its SLO lacks, or whose window, minimum of events or tier copy is not the SLO's", () => {
    expect(refusal(edited('Rollback', (e) => (e.alarms[1].tier.name = 'page-2h')))).toBe(
      `${at('Rollback')}field "data.entry.alarms[1].tier.name": "page-2h" is not a tier of SLO Latency (page-1h, page-6h, ticket-1d, ticket-3d) (RT715)`,
    );
    expect(refusal(edited('Rollback', (e) => (e.alarms[0].windowSeconds = 3600)))).toBe(
      `${at('Rollback')}field "data.entry.alarms[0].windowSeconds": is 3600, the short window of tier page-1h is 300 (a rollback alarm watches the tier's short window); ${DERIVED} (RT715)`,
    );
    expect(refusal(edited('Rollback', (e) => (e.alarms[0].minEvents = 71)))).toBe(
      `${at('Rollback')}field "data.entry.alarms[0].minEvents": is 71, tier page-1h of SLO Availability has minEventsPerWindow 70; ${DERIVED} (RT715)`,
    );
    expect(refusal(edited('Rollback', (e) => (e.alarms[1].tier.factor = 14.5)))).toBe(
      `${at('Rollback')}field "data.entry.alarms[1].tier.factor": is 14.5, tier page-1h of SLO Latency has 14.4; ${DERIVED} (RT715)`,
    );
    expect(refusal(edited('Rollback', (e) => (e.alarms[1].tier.longAlarm = 'LambdaCanary/Latency/page-6h/long')))).toBe(
      `${at('Rollback')}field "data.entry.alarms[1].tier.longAlarm": is "LambdaCanary/Latency/page-6h/long", tier page-1h of SLO Latency has "LambdaCanary/Latency/page-1h/long"; ${DERIVED} (RT715)`,
    );
  });

  it("accepts a rollback alarm's tier copy without the fields a bare tier lacks, and float noise in its numbers", () => {
    expect(
      refusal(
        edited('Rollback', (e) => {
          delete e.alarms[0].tier.longAlarm;
          delete e.alarms[0].tier.minEventsPerWindow;
          e.alarms[0].tier.errorRatioThreshold = 0.0144 + 1e-15;
        }),
      ),
    ).toBe('accepted');
  });
});
