import { Duration, Token } from 'aws-cdk-lib';
import { HEALTH_CHECK_DEFAULTS } from '../core/defaults';
import { RollbackTriggersError } from '../core/errors';
import type { EvaluatorHealthCheck } from '../core/evaluator-config';

/** An HTTP health check probed on every bake tick. */
export interface HttpHealthCheckProps {
  /** A name for reasons and audit events. */
  readonly name: string;
  /** The URL to GET; a status from 200 to 399 passes. Point it at the new version (a function URL, the test listener). */
  readonly url: string;
  /**
   * How long one probe may take.
   *
   * @default Duration.seconds(5)
   */
  readonly timeout?: Duration;
  /**
   * Consecutive failed probes (one per tick) that fail the bake.
   *
   * @default 3
   */
  readonly failAfter?: number;
}

/** A CloudWatch Synthetics canary whose runs are read during the bake. */
export interface SyntheticsHealthCheckProps {
  /** A name for reasons and audit events. */
  readonly name: string;
  /** The Synthetics canary's name (the `CanaryName` dimension of `CloudWatchSynthetics` metrics). */
  readonly canaryName: string;
  /**
   * A run whose `SuccessPercent` is below this is a failed run. The bake fails when the runs since
   * traffic shifted fail significantly more often than the same canary's runs in the hour before
   * the release (Fisher's exact test, p ≤ 0.001: three failed runs of the first five against a
   * clean hour), so one flaky run does not roll a release back; a canary with fewer than 10 runs
   * in that hour fails the bake on any failed run.
   *
   * @default 100
   */
  readonly minSuccessPercent?: number;
}

/** A health check the evaluator runs on every bake tick, besides the SLOs. */
export class HealthCheck {
  /**
   * An HTTP probe: a GET of the URL on every bake tick.
   *
   * A status from 200 to 399 passes, and `failAfter` consecutive failed probes fail the bake. The
   * simulator cannot replay a probe from metrics: it says so in the evaluator's reasons.
   */
  public static http(props: HttpHealthCheckProps): HealthCheck {
    validateName('HealthCheck.http', props.name);
    if (!Token.isUnresolved(props.url) && !/^https?:\/\/[^\s]+$/.test(props.url)) {
      throw new RollbackTriggersError('RT310', `health check ${props.name}: url must be an http:// or https:// URL, got "${props.url}"`, { prop: 'url' });
    }
    const failAfter = props.failAfter ?? HEALTH_CHECK_DEFAULTS.httpFailAfter;
    if (Token.isUnresolved(failAfter)) {
      throw new RollbackTriggersError('RT311', `health check ${props.name}: failAfter must be a literal number, got a token — the evaluator and the policy count failed probes with it`, { prop: 'failAfter' });
    }
    if (!Number.isInteger(failAfter) || failAfter < 1) {
      throw new RollbackTriggersError('RT311', `health check ${props.name}: failAfter must be a whole number of at least 1, got ${failAfter}`, { prop: 'failAfter' });
    }
    const timeout = props.timeout ?? Duration.millis(HEALTH_CHECK_DEFAULTS.httpTimeoutMs);
    if (timeout.isUnresolved()) {
      throw new RollbackTriggersError('RT312', `health check ${props.name}: timeout must be a literal duration, got a token — the evaluator's configuration carries it in milliseconds`, { prop: 'timeout' });
    }
    const timeoutMs = timeout.toMilliseconds({ integral: false });
    if (!(Number.isInteger(timeoutMs) && timeoutMs > 0 && timeoutMs <= 30_000)) {
      throw new RollbackTriggersError(
        'RT312',
        `health check ${props.name}: timeout must be whole milliseconds above 0 and at most 30 seconds (one probe per one-minute tick), got ${timeout.toString()}`,
        { prop: 'timeout' },
      );
    }
    return new HealthCheck({ kind: 'http', name: props.name, url: props.url, timeoutMs, failAfter });
  }

  /**
   * A CloudWatch Synthetics canary whose runs (`SuccessPercent`) are read on every bake tick.
   *
   * The bake fails when the runs since traffic shifted fail significantly more often than the
   * canary's runs in the hour before the release (see `minSuccessPercent`).
   */
  public static synthetics(props: SyntheticsHealthCheckProps): HealthCheck {
    validateName('HealthCheck.synthetics', props.name);
    if (typeof props.canaryName !== 'string' || (!Token.isUnresolved(props.canaryName) && props.canaryName.trim().length === 0)) {
      throw new RollbackTriggersError(
        'RT329',
        `health check ${props.name}: canaryName must name a Synthetics canary (the CanaryName dimension its runs are read under), got ${JSON.stringify(props.canaryName)}`,
        { prop: 'canaryName' },
      );
    }
    const min = props.minSuccessPercent ?? HEALTH_CHECK_DEFAULTS.minSuccessPercent;
    if (Token.isUnresolved(min)) {
      throw new RollbackTriggersError('RT313', `health check ${props.name}: minSuccessPercent must be a literal number, got a token — the evaluator and the policy judge runs with it`, { prop: 'minSuccessPercent' });
    }
    if (!(min > 0 && min <= 100)) {
      throw new RollbackTriggersError('RT313', `health check ${props.name}: minSuccessPercent must be above 0 and at most 100, got ${min}`, { prop: 'minSuccessPercent' });
    }
    return new HealthCheck({ kind: 'synthetics', name: props.name, canaryName: props.canaryName, minSuccessPercent: min });
  }

  /** A name for reasons and audit events. */
  public readonly name: string;

  /** @internal */
  public readonly _config: EvaluatorHealthCheck;

  private constructor(config: EvaluatorHealthCheck) {
    this.name = config.name;
    this._config = config;
  }
}

/**
 * A health check's name keys it in the evaluator's reasons and the audit events, and the simulator
 * looks a canary's runs up by it when the canary's name is known only at deploy time: it must be a
 * literal, non-blank string (RT329). Duplicates are
 * checked by the trigger that holds the checks.
 */
function validateName(factory: string, name: unknown): void {
  if (typeof name !== 'string' || Token.isUnresolved(name) || name.trim().length === 0) {
    const got = typeof name === 'string' && Token.isUnresolved(name) ? 'a token' : JSON.stringify(name);
    throw new RollbackTriggersError(
      'RT329',
      `${factory}: name must be a literal, non-blank string, got ${got} — it names the check in the evaluator's reasons, the audit events and the simulator's series`,
      { prop: 'name' },
    );
  }
}
