import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { App } from 'aws-cdk-lib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LambdaCanaryStack } from '../../examples/lambda-canary';
import { run, tempDir } from './simulate-helpers';

/**
 * What a new user types: files that are not there, directories, empty and binary files, flags
 * without values, negative and huge numbers, unknown, repeated and conflicting flags. Each is
 * refused with exit 2 and one message that names the flag (with the value and what is allowed) or
 * the file (with where in it and the field), under its code — never a stack trace, never a partial
 * output. The few that are accepted are at the end, with why.
 */

let tmp: ReturnType<typeof tempDir>;
let asm: ReturnType<typeof tempDir>;
/** `{dir}` in an argument is the scratch directory, `{asm}` the synthesized LambdaCanary app. */
const at = (arg: string) => arg.replace('{dir}', tmp.dir).replace('{asm}', asm.dir);

beforeAll(() => {
  tmp = tempDir('rt-bad-');
  asm = tempDir('rt-bad-asm-');
  const app = new App({ outdir: asm.dir });
  new LambdaCanaryStack(app, 'LambdaCanary');
  app.synth();
  const series = (slow: boolean) =>
    Array.from({ length: 60 }, (_, minute) => ({ minute, requests: 100, errors: minute >= 30 ? 2 : 0, ...(slow ? { slow: 0 } : {}) }));
  writeFileSync(join(tmp.dir, 'ok.json'), JSON.stringify({ releaseMinute: 30, deployment: { kind: 'canary', percent: 10, intervalMinutes: 5 }, series: series(false) }));
  writeFileSync(join(tmp.dir, 'slow.json'), JSON.stringify({ releaseMinute: 30, deployment: { kind: 'all-at-once' }, series: series(true) }));
  writeFileSync(
    join(tmp.dir, 'bake53.json'),
    JSON.stringify({ releaseMinute: 30, deployment: { kind: 'all-at-once', bakeMinutes: 53 }, series: series(false) }),
  );
  const withTop = (top: string) => `{ "releaseMinute": 1, "deployment": { "kind": "all-at-once" }, ${top}, "series": [{ "minute": 0, "requests": 10, "errors": 0 }, { "minute": 1, "requests": 10, "errors": 0 }] }`;
  writeFileSync(join(tmp.dir, 'delay.json'), withTop('"ingestionDelayMinutes": 30000'));
  writeFileSync(join(tmp.dir, 'latency.json'), withTop('"slos": [{ "name": "latency", "objectivePercent": 99, "sli": "latency", "latencyThreshold": 1e999 }]'));
  writeFileSync(join(tmp.dir, 'minute.json'), '{ "releaseMinute": 1, "deployment": { "kind": "all-at-once" }, "series": [{ "minute": 1e300, "requests": 10, "errors": 0 }] }');
  writeFileSync(join(tmp.dir, 'count.csv'), 'minute,requests,errors\n0,1e20,0\n');
  writeFileSync(join(tmp.dir, 'semicolons.csv'), 'minute;requests;errors\n0;10;0\n');
  writeFileSync(join(tmp.dir, 'ok.csv'), 'timestamp,requests,errors\n2024-05-01T10:00:00Z,100,0\n2024-05-01T10:01:00Z,100,0\n2024-05-01T10:02:00Z,100,1\n');
  writeFileSync(join(tmp.dir, 'policy.json'), JSON.stringify({ slos: [{ name: 'availability', objectivePercent: 99.5 }] }));
  writeFileSync(join(tmp.dir, 'empty.json'), '');
  writeFileSync(join(tmp.dir, 'blank.json'), '\uFEFF \n');
  writeFileSync(join(tmp.dir, 'empty.csv'), '');
  writeFileSync(join(tmp.dir, 'series.json.gz'), Buffer.from([0x1f, 0x8b, 0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x03]));
  writeFileSync(join(tmp.dir, 'latin1.csv'), Buffer.from('minute,requests,errors\n0,100,0 \xe9\n', 'latin1'));
  writeFileSync(join(tmp.dir, 'array.json'), '[1, 2, 3]');
  mkdirSync(join(tmp.dir, 'folder.json'));
  mkdirSync(join(tmp.dir, 'out'));
});
afterAll(() => {
  tmp?.remove();
  asm?.remove();
});

const S = ['simulate', '{dir}/ok.json'];
const OUT = ['--json', '{dir}/out/r.json', '--chart', '{dir}/out/c.svg'];
const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');

/** `message` is matched against the first line (usage text may follow a usage error). */
const refused: Array<{ name: string; args: string[]; message: RegExp }> = [
  // Files
  { name: 'a series file that does not exist', args: ['simulate', '{dir}/nope.json'], message: /^{dir}\/nope\.json: no such file \(RT713\)$/ },
  { name: 'a directory as the series file', args: ['simulate', '{dir}/folder.json'], message: /^{dir}\/folder\.json: is a directory, not a series file .*\(RT713\)$/ },
  { name: 'an empty JSON file', args: ['simulate', '{dir}/empty.json'], message: /^{dir}\/empty\.json: is empty; expected a JSON series .*\(RT713\)$/ },
  { name: 'a JSON file with only a byte-order mark and blanks', args: ['simulate', '{dir}/blank.json'], message: /^{dir}\/blank\.json: is empty; expected a JSON series/ },
  { name: 'an empty CSV file', args: ['simulate', '{dir}/empty.csv', '--release-minute', '0', '--deployment', 'all-at-once'], message: /^{dir}\/empty\.csv: is empty: expected a header such as "minute,requests,errors" \(RT716\)$/ },
  { name: 'a binary (gzip) file', args: ['simulate', '{dir}/series.json.gz'], message: /^{dir}\/series\.json\.gz: is not a text file \(a NUL byte at offset 3\); expected a series file .*\(RT713\)$/ },
  { name: 'a file that is not UTF-8', args: ['simulate', '{dir}/latin1.csv', '--release-minute', '0', '--deployment', 'all-at-once'], message: /^{dir}\/latin1\.csv: is not a text file \(bytes that are not UTF-8\)/ },
  { name: 'a JSON array instead of an object', args: ['simulate', '{dir}/array.json'], message: /^{dir}\/array\.json: the document must be a JSON object, got an array \(RT716\)$/ },
  { name: 'a file ingestion delay beyond two weeks', args: ['simulate', '{dir}/delay.json'], message: /^{dir}\/delay\.json: field "ingestionDelayMinutes": must be at most 20160 \(14 days: .*\), got 30000 \(RT716\)$/ },
  { name: 'a file number too large to hold (1e999)', args: ['simulate', '{dir}/latency.json'], message: /^{dir}\/latency\.json: slos\[0\]: field "latencyThreshold": must be a finite number above 0, got Infinity \(a number too large to hold\) \(RT716\)$/ },
  { name: 'a minute beyond a safe integer', args: ['simulate', '{dir}/minute.json'], message: /^{dir}\/minute\.json: series\[0\] \(minute 1e\+300\): field "minute": must be a whole number ≥ 0, got 1e\+300 \(RT716\)$/ },
  { name: 'a CSV count beyond a safe integer', args: ['simulate', '{dir}/count.csv', '--release-minute', '0', '--deployment', 'all-at-once'], message: /^{dir}\/count\.csv: line 2: field "requests": must be a whole number ≥ 0 .*got 100000000000000000000 \(RT716\)$/ },
  { name: 'a CSV separated by semicolons', args: ['simulate', '{dir}/semicolons.csv', '--release-minute', '0', '--deployment', 'all-at-once'], message: /^{dir}\/semicolons\.csv: line 1: the header is separated by semicolons; CSV columns are separated by commas/ },
  { name: '"-" for standard input', args: ['simulate', '-'], message: /^-: standard input is not read: save the input to a file and give its name \(RT713\)$/ },
  { name: 'a policy file that does not exist', args: [...S, '--policy', '{dir}/nope.json'], message: /^{dir}\/nope\.json: no such file \(RT713\)$/ },
  { name: 'a directory as the policy file', args: [...S, '--policy', '{dir}/folder.json'], message: /^{dir}\/folder\.json: is a directory, not an inline policy file/ },
  { name: 'an empty policy file', args: [...S, '--policy', '{dir}/empty.json'], message: /^{dir}\/empty\.json: is empty; expected an inline policy file/ },
  { name: 'a binary policy file', args: [...S, '--policy', '{dir}/series.json.gz'], message: /^{dir}\/series\.json\.gz: is not a text file/ },
  { name: 'an assembly directory that does not exist', args: [...S, '--assembly', '{dir}/cdk.out'], message: /^--assembly {dir}\/cdk\.out: {dir}\/cdk\.out\/manifest\.json not found — run "cdk synth" first/ },
  { name: 'a file as the assembly directory', args: [...S, '--assembly', '{dir}/ok.json'], message: /^--assembly {dir}\/ok\.json: {dir}\/ok\.json: is a file, not a cloud assembly directory; .*\(RT714\)$/ },
  { name: 'plan on a file', args: ['plan', '{dir}/ok.json'], message: /^{dir}\/ok\.json: is a file, not a cloud assembly directory; give the directory "cdk synth" writes \(cdk\.out\) \(RT714\)$/ },
  { name: 'plan on a directory without a manifest', args: ['plan', '{dir}/folder.json'], message: /^{dir}\/folder\.json\/manifest\.json not found — run "cdk synth" first/ },
  // Flags without values, unknown, repeated
  { name: 'a flag without its value at the end', args: [...S, '--chart'], message: /^--chart needs a value \(FILE\.svg\) after it \(RT712\)$/ },
  { name: 'a flag followed by another flag', args: [...S, '--chart', '--png', '{dir}/out/c.png'], message: /^--chart needs a value \(FILE\.svg\), got the option --png; write --chart=VALUE for a value that starts with a dash \(RT712\)$/ },
  { name: 'an empty value', args: [...S, '--stack='], message: /^--stack needs a value \(NAME\), got an empty one \(RT712\)$/ },
  { name: 'an unknown flag, a typo', args: [...S, '--bake-minute', '5'], message: /^unknown option --bake-minute \(did you mean --bake-minutes\?\) \(RT712\)$/ },
  { name: 'an unknown flag', args: [...S, '--verbose'], message: /^unknown option --verbose; see --help \(RT712\)$/ },
  { name: 'an unknown short flag', args: [...S, '-v'], message: /^unknown option -v; see --help \(RT712\)$/ },
  { name: 'a stray negative number', args: [...S, '-5'], message: /^-5 is not an option; give a number as the value of the flag it belongs to \(RT712\)$/ },
  { name: 'a repeated flag (the last one used to win silently)', args: [...S, '--bake-minutes', '5', '--bake-minutes', '7'], message: /^--bake-minutes is given twice \("5", then "7"\); give it once \(RT712\)$/ },
  { name: 'a repeated output', args: [...S, '--json', '{dir}/out/a.json', '--json', '{dir}/out/b.json'], message: /^--json is given twice/ },
  { name: 'two series files', args: [...S, '{dir}/ok.csv'], message: /^one series file at a time/ },
  // Numbers: negative, fractional, huge, not numbers
  { name: 'a negative --bake-minutes', args: [...S, '--bake-minutes', '-5'], message: /^--bake-minutes must be whole minutes from 1 to 55 \(the evaluator reports at the latest 55 min after its hook starts\), got "-5" \(RT712\)$/ },
  { name: 'a negative --release-minute', args: [...S, '--release-minute', '-1'], message: /^--release-minute must be a whole number ≥ 0, got "-1" \(RT712\)$/ },
  { name: 'a negative --ingestion-delay', args: [...S, '--ingestion-delay', '-60'], message: /^--ingestion-delay must be whole seconds from 0 to 1209600 \(14 days: .*\), got "-60" \(RT712\)$/ },
  { name: 'a negative canary percent', args: [...S, '--deployment', 'canary:-10:5'], message: /^--deployment canary:-10:5: PERCENT must be a whole percentage from 1 to 99 .*, got "-10" \(RT712\)$/ },
  { name: 'a fractional --bake-minutes', args: [...S, '--bake-minutes', '2.5'], message: /^--bake-minutes must be whole minutes from 1 to 55 .*, got "2\.5"/ },
  { name: 'a --bake-minutes in exponent notation', args: [...S, '--bake-minutes', '1e1'], message: /^--bake-minutes must be whole minutes .*, got "1e1"/ },
  { name: 'a huge --bake-minutes', args: [...S, '--bake-minutes', '99999999999999999999'], message: /^--bake-minutes must be whole minutes from 1 to 55 .*, got "99999999999999999999"/ },
  { name: 'a --bake-minutes past the deadline minus the metric delay', args: [...S, '--bake-minutes', '53'], message: /^--bake-minutes 53: must be at most 52 min \(the deadline of 55 min after the hook starts, minus 3 min metric delay\) \(RT712\)$/ },
  {
    name: 'a --bake-minutes past the deadline with an assembly',
    args: ['simulate', '{dir}/slow.json', '--assembly', '{asm}', '--bake-minutes', '55'],
    message: /^--bake-minutes 55: must be at most 52 min \(the deadline of 55 min after the hook starts \(rollback trigger Rollback\), minus 3 min metric delay\) \(RT712\)$/,
  },
  { name: 'a huge --release-minute', args: [...S, '--release-minute', '99999999999'], message: /^--release-minute 99999999999: is 99999999999 minutes after the series' first entry \(minute 0\); one replay covers less than 86400 minutes/ },
  { name: 'a --release-minute beyond a safe integer', args: [...S, '--release-minute', '9007199254740993'], message: /^--release-minute must be a whole number ≥ 0, got "9007199254740993"/ },
  { name: 'a huge --ingestion-delay', args: [...S, '--ingestion-delay', '600000000000'], message: /^--ingestion-delay must be whole seconds from 0 to 1209600/ },
  { name: 'an --ingestion-delay off the minute', args: [...S, '--ingestion-delay', '90'], message: /^--ingestion-delay must be a multiple of 60 seconds \(the simulation runs in whole minutes\), got "90" \(RT712\)$/ },
  { name: 'a word for a number', args: [...S, '--release-minute', 'ten'], message: /^--release-minute must be a whole number ≥ 0, got "ten"/ },
  { name: 'NaN', args: [...S, '--bake-minutes', 'NaN'], message: /^--bake-minutes must be whole minutes .*, got "NaN"/ },
  { name: 'a canary interval beyond 2 days', args: [...S, '--deployment', 'canary:10:2881'], message: /^--deployment canary:10:2881: MINUTES must be a whole number of minutes from 1 to 2880 \(CodeDeploy's longest interval, 2 days\), got "2881" \(RT712\)$/ },
  { name: 'a canary interval beyond a safe integer', args: [...S, '--deployment', 'canary:10:99999999999999999999'], message: /^--deployment canary:10:99999999999999999999: MINUTES must be/ },
  {
    name: 'a deployment too long to replay (99 steps of 2 days)',
    args: [...S, '--deployment', 'linear:1:2880'],
    message: /^--deployment linear:1:2880: shifts all traffic at minute 285150, 285120 minutes after the release; .* would exceed the 86400 minutes \(60 days\) one replay covers — use fewer or shorter steps \(RT712\)$/,
  },
  { name: 'a shape with a missing number', args: [...S, '--deployment', 'canary:10'], message: /^--deployment must be all-at-once, canary:PERCENT:MINUTES, .*got "canary:10" \(RT712\)$/ },
  // Conflicting and dependent flags
  { name: '--assembly and --policy together', args: [...S, '--assembly', '{asm}', '--policy', '{dir}/policy.json'], message: /^give either --assembly or --policy, not both \(RT712\)$/ },
  { name: '--release-minute and --release-time together', args: [...S, '--release-minute', '1', '--release-time', '2024-05-01T10:01:00Z'], message: /^give either --release-minute or --release-time, not both/ },
  { name: '--stack without --assembly', args: [...S, '--stack', 'LambdaCanary'], message: /^--stack needs --assembly \(RT712\)$/ },
  { name: '--trigger without --assembly', args: [...S, '--trigger', 'Rollback'], message: /^--trigger needs --assembly/ },
  { name: '--release-time on a file without timestamps', args: [...S, '--release-time', '2024-05-01T10:00:00Z'], message: /^--release-time needs a CSV file with a timestamp column; use --release-minute/ },
  { name: '--release-time in a local-time shape', args: ['simulate', '{dir}/ok.csv', '--deployment', 'all-at-once', '--release-time', 'May 1 2024 10:01'], message: /^--release-time must be an ISO 8601 time such as 2024-05-01T10:30:00Z, got "May 1 2024 10:01" \(RT712\)$/ },
  { name: '--release-time between minutes', args: ['simulate', '{dir}/ok.csv', '--deployment', 'all-at-once', '--release-time', '2024-05-01T10:01:30Z'], message: /^--release-time 2024-05-01T10:01:30Z must fall on a whole minute/ },
  { name: '--chart to stdout', args: [...S, '--chart', '-'], message: /^--chart and --png need a file name; only --json writes to stdout \("-"\) \(RT712\)$/ },
  { name: 'a PNG named .svg', args: [...S, '--png', '{dir}/out/c.svg'], message: /^--png {dir}\/out\/c\.svg: --png writes PNG, not SVG; name the file \.png, or give it to --chart \(RT712\)$/ },
  { name: 'an SVG named .png', args: [...S, '--chart', '{dir}/out/c.png'], message: /^--chart {dir}\/out\/c\.png: --chart writes SVG, not PNG/ },
  { name: 'an output that is a directory', args: [...S, '--chart', '{dir}/folder.json'], message: /^--chart {dir}\/folder\.json: is a directory; give a file name \(RT712\)$/ },
  { name: 'an output in a directory that does not exist', args: [...S, '--json', '{dir}/nope/r.json'], message: /^--json {dir}\/nope\/r\.json: the directory .* does not exist or is not writable \(RT712\)$/ },
  { name: 'an output over the series file', args: [...S, '--json', '{dir}/ok.json'], message: /^--json {dir}\/ok\.json: is also the series file; give each output its own file \(RT712\)$/ },
  { name: 'a stack the assembly lacks', args: ['simulate', '{dir}/slow.json', '--assembly', '{asm}', '--stack', 'Nope'], message: /^--stack Nope: no such stack with a rollback-triggers policy in .* \(stacks: LambdaCanary\) \(RT712\)$/ },
  { name: 'a trigger the stack lacks', args: ['simulate', '{dir}/slow.json', '--assembly', '{asm}', '--trigger', 'Nope'], message: /^--trigger Nope: stack LambdaCanary has Rollback \(LambdaCanary\/Rollback\) \(RT712\)$/ },
  // plan
  { name: 'plan with a negative --ingestion-delay', args: ['plan', '{asm}', '--ingestion-delay', '-60'], message: /^--ingestion-delay must be whole seconds from 0 to 1209600 \(14 days: CloudWatch takes no datapoint older than two weeks\), got "-60" \(RT712\)$/ },
  { name: 'plan with an empty --ingestion-delay (read as 0 before)', args: ['plan', '{asm}', '--ingestion-delay='], message: /^--ingestion-delay needs a value \(SECONDS\), got an empty one/ },
  { name: 'plan with a huge --ingestion-delay', args: ['plan', '{asm}', '--ingestion-delay', '1e308'], message: /^--ingestion-delay must be whole seconds .*, got "1e308"/ },
  { name: 'plan with a repeated --ingestion-delay', args: ['plan', '{asm}', '--ingestion-delay', '60', '--ingestion-delay', '120'], message: /^--ingestion-delay is given twice/ },
  { name: 'plan with a value on a switch', args: ['plan', '{asm}', '--json=yes'], message: /^--json takes no value, got --json=yes \(RT712\)$/ },
  { name: 'plan with two directories', args: ['plan', '{asm}', '{dir}'], message: /^plan reads one cloud assembly directory, got .* \(RT712\)$/ },
  { name: 'an unknown command', args: ['plna', '{asm}'], message: /^unknown command "plna"; the commands are plan and simulate/ },
];

describe('bad invocations: exit 2, the flag or the file named, nothing written', () => {
  for (const c of refused) {
    it(`refuses ${c.name}`, () => {
      const args = [...c.args.map(at), ...(c.args.some((a) => ['--json', '--chart', '--png'].includes(a)) || c.args[0] !== 'simulate' ? [] : OUT.map(at))];
      const { code, out, err } = run(args);
      expect(err).not.toMatch(/\n\s+at /);
      expect(code).toBe(2);
      expect(out).toBe('');
      const first = err.split('\n\n')[0];
      expect(first.split('\n')).toHaveLength(1);
      expect(first).toMatch(new RegExp(c.message.source.replace(/\{dir\}/g, esc(tmp.dir)).replace(/\{asm\}/g, esc(asm.dir))));
      // Every refusal carries its rule's code.
      expect(first).toMatch(/\(RT\d{3}\)$|^\[RT\d{3}\]|\[RT\d{3}\]/);
      expect(readdirSync(join(tmp.dir, 'out'))).toEqual([]);
    });
  }
});

describe('bad invocations decided to accept', () => {
  it('a negative-looking value where a value is taken, checked by the flag itself (--bake-minutes=-5 and --bake-minutes -5 read alike)', () => {
    expect(run(at('simulate {dir}/ok.json --bake-minutes=-5').split(' ')).err).toBe(run(at('simulate {dir}/ok.json --bake-minutes -5').split(' ')).err);
  });

  it('a repeated switch (--json --json): it says the same thing twice', () => {
    expect(run(['plan', asm.dir, '--json', '--json']).code).toBe(0);
  });

  it("plan given the assembly's manifest.json: it names the assembly", () => {
    expect(run(['plan', join(asm.dir, 'manifest.json')]).code).toBe(0);
  });

  it('a chart file with an extension other than .svg or .png: the name is the user\'s', () => {
    const { code } = run([...S.map(at), '--chart', join(tmp.dir, 'out', 'chart.txt')]);
    expect(code).toBe(0);
    rmSync(join(tmp.dir, 'out', 'chart.txt'));
  });

  it('a release after the last entry: no data after the release is a case to replay', () => {
    expect(run([...S.map(at), '--release-minute', '100']).code).toBe(0);
  });

  it('a CodeDeploy config name with the platform prefix, in any case', () => {
    expect(run([...S.map(at), '--deployment', 'codedeploydefault.lambdacanary10percent5minutes']).code).toBe(0);
  });
});

describe('a bake that is too long names who gave it', () => {
  it("names the series file's field when the file gave it, not the policy file", () => {
    const series = join(tmp.dir, 'bake53.json');
    const { code, err } = run(['simulate', series, '--policy', join(tmp.dir, 'policy.json')]);
    expect(code).toBe(2);
    expect(err).toBe(`${series}: deployment: field "bakeMinutes": must be at most 52 min (the deadline of 55 min after the hook starts, minus 3 min metric delay), got 53 min (RT716)`);
  });
});
