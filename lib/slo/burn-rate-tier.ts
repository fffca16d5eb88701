import { Duration, Token } from 'aws-cdk-lib';
import { RollbackTriggersError, formatSeconds } from '../core/errors';
import { TierSpec, WORKBOOK_TIERS, validateBudgetConsumedPercent } from '../core/slo-math';
import { literalSeconds } from '../private/metrics';

/** Who is told when a tier fires. */
export enum AlertSeverity {
  /** Wake someone up: the budget burns fast enough to be gone within days. */
  PAGE = 'page',
  /** Open a ticket: the burn is slow but would exhaust the budget within the period. */
  TICKET = 'ticket',
}

/** Properties of a custom burn-rate tier. */
export interface BurnRateTierProps {
  /** Whether the tier pages or opens a ticket. */
  readonly severity: AlertSeverity;
  /**
   * Share of the compliance period's error budget the tier tolerates within its long window, in
   * percent. The burn-rate factor is this share × compliance period ÷ long window.
   */
  readonly budgetConsumedPercent: number;
  /** The long window. The alarm's period is the window, evaluated every minute. */
  readonly longWindow: Duration;
  /**
   * The short window, which makes the tier reset quickly once the burn stops.
   *
   * @default - longWindow ÷ 12, as in the SRE Workbook
   */
  readonly shortWindow?: Duration;
  /**
   * A short name used in construct ids, alarm names and the plan.
   *
   * @default - severity and long window, for example `page-1h`
   */
  readonly name?: string;
}

/**
 * A multi-window, multi-burn-rate alerting tier (Google SRE Workbook, "Alerting on SLOs").
 *
 * The defaults are the workbook's four tiers; `BurnRateTier.of()` makes custom ones.
 */
export class BurnRateTier {
  /** Page when 2 % of the budget burns within 1 hour (5-minute short window): 14.4× for 30 days. */
  public static readonly PAGE_1H = BurnRateTier.fromSpec(WORKBOOK_TIERS[0]);
  /** Page when 5 % of the budget burns within 6 hours (30-minute short window): 6× for 30 days. */
  public static readonly PAGE_6H = BurnRateTier.fromSpec(WORKBOOK_TIERS[1]);
  /** Ticket when 10 % of the budget burns within 1 day (2-hour short window): 3× for 30 days. */
  public static readonly TICKET_1D = BurnRateTier.fromSpec(WORKBOOK_TIERS[2]);
  /** Ticket when 10 % of the budget burns within 3 days (6-hour short window): 1× for 30 days. */
  public static readonly TICKET_3D = BurnRateTier.fromSpec(WORKBOOK_TIERS[3]);

  /** The SRE Workbook's four tiers, fastest first. */
  public static workbookDefaults(): BurnRateTier[] {
    return [BurnRateTier.PAGE_1H, BurnRateTier.PAGE_6H, BurnRateTier.TICKET_1D, BurnRateTier.TICKET_3D];
  }

  /**
   * A custom tier. Every prop is checked here, so a mistake points at the tier, not at the SLO
   * that uses it: severity one of `AlertSeverity`, `budgetConsumedPercent` a literal number above
   * 0 and at most 100, windows positive whole seconds with the short one shorter.
   */
  public static of(props: BurnRateTierProps): BurnRateTier {
    if (props.severity !== AlertSeverity.PAGE && props.severity !== AlertSeverity.TICKET) {
      throw new RollbackTriggersError('RT123', `BurnRateTier.of: severity must be AlertSeverity.PAGE or AlertSeverity.TICKET, got ${JSON.stringify(props.severity)}`, { prop: 'severity' });
    }
    if (Token.isUnresolved(props.budgetConsumedPercent)) {
      throw new RollbackTriggersError(
        'RT113',
        'BurnRateTier.of: budgetConsumedPercent must be a literal number, got a token — the burn-rate thresholds are computed from it at synth',
        { prop: 'budgetConsumedPercent' },
      );
    }
    validateBudgetConsumedPercent('BurnRateTier.of: budgetConsumedPercent', props.budgetConsumedPercent);
    const longSeconds = literalSeconds('BurnRateTier.of: longWindow', props.longWindow, 'longWindow');
    const shortSeconds = props.shortWindow ? literalSeconds('BurnRateTier.of: shortWindow', props.shortWindow, 'shortWindow') : longSeconds / 12;
    if (!Number.isInteger(shortSeconds)) {
      throw new RollbackTriggersError(
        'RT107',
        `shortWindow defaults to longWindow ÷ 12, which is ${shortSeconds} s for a ${formatSeconds(longSeconds)} long window — set shortWindow explicitly`,
        { prop: 'shortWindow' },
      );
    }
    if (shortSeconds >= longSeconds) {
      throw new RollbackTriggersError(
        'RT104',
        `BurnRateTier.of: shortWindow must be shorter than longWindow, got short ${formatSeconds(shortSeconds)} and long ${formatSeconds(longSeconds)} — the workbook uses long ÷ 12`,
        { prop: 'shortWindow' },
      );
    }
    const name = props.name ?? `${props.severity}-${formatSeconds(longSeconds).replace(' ', '')}`;
    if (!/^[A-Za-z0-9][A-Za-z0-9-]{0,63}$/.test(name) || name === 'page' || name === 'ticket') {
      // "page" and "ticket" name the severity composites in the policy and the construct tree.
      throw new RollbackTriggersError('RT108', `tier name must be 1 to 64 letters, digits or dashes, and not "page" or "ticket", got "${name}"`, { prop: 'name' });
    }
    return new BurnRateTier({
      name,
      severity: props.severity === AlertSeverity.PAGE ? 'page' : 'ticket',
      budgetFraction: props.budgetConsumedPercent / 100,
      longWindowSeconds: longSeconds,
      shortWindowSeconds: shortSeconds,
    });
  }

  private static fromSpec(spec: TierSpec): BurnRateTier {
    return new BurnRateTier(spec);
  }

  /** Name of the tier, unique within one SLO. */
  public readonly name: string;
  /** Whether the tier pages or opens a ticket. */
  public readonly severity: AlertSeverity;
  /** Share of the budget the tier tolerates within its long window, in percent. */
  public readonly budgetConsumedPercent: number;
  /** The window the burn rate is measured over (the workbook's 1 h for the fastest page tier). */
  public readonly longWindow: Duration;
  /** The window that must burn too, so the alarm resets soon after the errors stop (by default 1/12 of the long one). */
  public readonly shortWindow: Duration;

  private constructor(private readonly spec: TierSpec) {
    this.name = spec.name;
    this.severity = spec.severity === 'page' ? AlertSeverity.PAGE : AlertSeverity.TICKET;
    this.budgetConsumedPercent = spec.budgetFraction * 100;
    this.longWindow = Duration.seconds(spec.longWindowSeconds);
    this.shortWindow = Duration.seconds(spec.shortWindowSeconds);
  }

  /** @internal */
  public _toSpec(): TierSpec {
    return this.spec;
  }
}
