import type * as SfnModule from '@aws-sdk/client-sfn';
import type * as StsModule from '@aws-sdk/client-sts';

/**
 * The AWS SDK that `approve` and `reject` call with, loaded from the user's project when one of
 * those commands runs (as `simulate --png` loads @resvg/resvg-js, lib/cli/png.ts). The package
 * ships no SDK: a copy bundled into it weighed 345 kB of the 1.5 MB the whole package may weigh
 * unpacked (issue 10, item 3), for two commands most installs never run. package.json lists the two
 * clients in `peerDependenciesMeta` as optional (npm installs neither; pnpm lets the package
 * require them). They cannot be in `peerDependencies`, where npm would read a version range: jsii
 * refuses a peer dependency that is not a jsii assembly. So the major version is checked here.
 * scripts/bundle.mjs leaves `@aws-sdk/*` out of assets/cli/main.js, so these `require`s resolve
 * from the installed package's directory upwards, to the project's node_modules.
 */

/** The SDK packages the commands need, in the order the install command names them. */
export const SDK_PACKAGES = ['@aws-sdk/client-sfn', '@aws-sdk/client-sts'] as const;
export type SdkPackage = (typeof SDK_PACKAGES)[number];

/**
 * The SDK's major version the commands are written against: v3, the modular clients whose
 * `send(new XCommand(input))` they call. Tested with the version in the repository's devDependencies.
 */
export const SDK_MAJOR = 3;

/** The constructors the commands use. */
export interface AwsSdk {
  readonly SFNClient: typeof SfnModule.SFNClient;
  readonly DescribeExecutionCommand: typeof SfnModule.DescribeExecutionCommand;
  readonly GetExecutionHistoryCommand: typeof SfnModule.GetExecutionHistoryCommand;
  readonly ListExecutionsCommand: typeof SfnModule.ListExecutionsCommand;
  readonly SendTaskSuccessCommand: typeof SfnModule.SendTaskSuccessCommand;
  readonly SendTaskFailureCommand: typeof SfnModule.SendTaskFailureCommand;
  readonly STSClient: typeof StsModule.STSClient;
  readonly GetCallerIdentityCommand: typeof StsModule.GetCallerIdentityCommand;
}

/** One SDK package as the project has it: its exports and its package.json version. */
export interface LoadedPackage {
  readonly exports: unknown;
  readonly version: string;
}

/** Loads one package; throws as `require` does when it is not installed. */
export type SdkLoader = (name: SdkPackage) => LoadedPackage;

/** The SDK is missing or of another major version: a usage problem of the project (exit code 2), nothing was sent. */
export class SdkUnavailableError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'SdkUnavailableError';
  }
}

// String literals, so that esbuild sees each require and leaves it to the user's project (external).
/* eslint-disable @typescript-eslint/no-require-imports */
const fromProject: SdkLoader = (name) =>
  name === '@aws-sdk/client-sfn'
    ? { exports: require('@aws-sdk/client-sfn'), version: (require('@aws-sdk/client-sfn/package.json') as { version: string }).version }
    : { exports: require('@aws-sdk/client-sts'), version: (require('@aws-sdk/client-sts/package.json') as { version: string }).version };
/* eslint-enable @typescript-eslint/no-require-imports */

/** The command that installs `names` at the supported major version. */
export function installCommand(names: readonly SdkPackage[]): string {
  return `npm install ${names.map((n) => `${n}@${SDK_MAJOR}`).join(' ')}`;
}

/**
 * Loads the SFN and STS clients from the project. Throws SdkUnavailableError naming the packages
 * that are missing (or of another major version) and the `npm install` command that adds them.
 */
export function loadSdk(load: SdkLoader = fromProject): AwsSdk {
  // The SDK's notice (on Node 20) that its releases after January 2027 need Node 22 is about the
  // SDK's future, not this command, whose stderr carries its own errors.
  process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
  const problems: string[] = [];
  const fix: SdkPackage[] = [];
  const loaded: Partial<Record<SdkPackage, Record<string, unknown>>> = {};
  for (const name of SDK_PACKAGES) {
    let pkg: LoadedPackage;
    try {
      pkg = load(name);
    } catch (e) {
      problems.push(`${name} could not be loaded (${(e as Error).message.split('\n')[0]})`);
      fix.push(name);
      continue;
    }
    const major = Number(/^(\d+)\./.exec(pkg.version)?.[1]);
    if (major !== SDK_MAJOR) {
      problems.push(`${name} is version ${pkg.version}, and the commands need ${SDK_MAJOR}.x`);
      fix.push(name);
      continue;
    }
    loaded[name] = pkg.exports as Record<string, unknown>;
  }
  if (fix.length > 0) {
    throw new SdkUnavailableError(
      `approve and reject need the AWS SDK for JavaScript v${SDK_MAJOR} from your project (the package does not ship it): ` +
        `${problems.join('; ')}. Install ${fix.length > 1 ? 'them' : 'it'} in your project with "${installCommand(fix)}"; nothing was sent`,
    );
  }
  const sfn = loaded['@aws-sdk/client-sfn'] as unknown as typeof SfnModule;
  const sts = loaded['@aws-sdk/client-sts'] as unknown as typeof StsModule;
  return {
    SFNClient: sfn.SFNClient,
    DescribeExecutionCommand: sfn.DescribeExecutionCommand,
    GetExecutionHistoryCommand: sfn.GetExecutionHistoryCommand,
    ListExecutionsCommand: sfn.ListExecutionsCommand,
    SendTaskSuccessCommand: sfn.SendTaskSuccessCommand,
    SendTaskFailureCommand: sfn.SendTaskFailureCommand,
    STSClient: sts.STSClient,
    GetCallerIdentityCommand: sts.GetCallerIdentityCommand,
  };
}
