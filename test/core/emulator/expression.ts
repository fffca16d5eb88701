/**
 * A small interpreter of the CloudWatch metric-math subset the constructs render (numbers, metric
 * ids, + - * /, comparisons, AND / OR, IF, FILL, FLOOR and CEIL), so a synthesized expression can be evaluated as
 * CloudWatch would and compared with the emulator. It evaluates ONE timestamp of the alarm's
 * period grid: each metric id has a datapoint there (a number) or none (`undefined`).
 *
 * The rules are those of the CloudWatch User Guide page "Metric math syntax and functions",
 * {@link METRIC_MATH_DOCS}. The quotes below are taken from that page's source,
 * awsdocs/amazon-cloudwatch-user-guide `doc_source/using-metric-math.md` (revision b355497,
 * 2023-05-18, the last before that repository was archived; the arithmetic, comparison and IF
 * sentences are in every revision since April 2020, the FILL ones since February 2022). No live
 * copy of the page was read.
 *
 * Documented:
 *
 * - Arithmetic (#metric-math-syntax-arithmetic): "Missing values in a time series are treated as
 *   0. If the value of a data point causes a function to attempt to divide by zero, the data point
 *   is dropped."
 * - Comparisons (#metric-math-syntax-operators): "When comparison operators are used between two
 *   time series, and only one of the time series has a value for a particular time stamp, the
 *   function treats the missing value in the other time series as 0." A comparison gives "either 0
 *   (false) or 1 (true)". The page's example: metric1 `[30, 20, 0, 0]`, metric2 `[20, -, 20, -]`,
 *   `(metric1 < metric2)` is `0, 0, 1, 0`, `(metric1 > 15 AND metric2 > 15)` is `1, 0, 0, 0`.
 * - IF (#using-IF-expressions): "The condition evaluates to FALSE if the value of the condition
 *   data point is 0, and to TRUE if the value of the condition is any other value, whether that
 *   value is positive or negative. If the condition is a time series, it is evaluated separately
 *   for every timestamp." For `IF(metric1, metric2, metric3)` the output "has the value of 0, if
 *   the corresponding data point of metric1 is TRUE and the corresponding data point does not
 *   exist in metric2", and "is dropped, if the corresponding data point of metric1 is FALSE and the
 *   corresponding data point does not exist in metric3 or if metric3 is omitted"; for
 *   `IF(metric1, metric2, scalar3)` it "is dropped if the corresponding data point in metric1 does
 *   not exist". Example: metric1 `[1, 1, 0, 0, -]`, metric2 `[30, -, 0, 0, 30]`, metric3
 *   `[0, 0, 20, -, 20]` give `[30, 0, 20, -, -]`. For `IF(scalar1, …)` the output "is an empty
 *   time series, if metric3 is omitted from the expression".
 * - FILL (#metric-math-syntax-functions-list): "Fills the missing values of a time series", and in
 *   an alarm "the most recent minute never has data. In this case, FILL replaces that missing data
 *   point with the requested value": FILL gives a datapoint at every timestamp of the grid.
 * - FLOOR and CEIL (same list): "Returns the floor of each metric. The floor is the largest integer
 *   less than or equal to each value", and the ceiling "the smallest integer greater than or equal
 *   to each value": datapoint by datapoint.
 *
 * Where the page is silent, or where a reading contrary to it is worth ruling out, {@link Reading}
 * names the alternatives; {@link DOCUMENTED} is the page's rules (and, where it is silent, the
 * reading noted there), and {@link READINGS} every combination, for tests that show a synthesized
 * expression does not depend on them.
 */
export const METRIC_MATH_DOCS = 'https://docs.aws.amazon.com/AmazonCloudWatch/latest/monitoring/using-metric-math.html';

export interface Reading {
  /**
   * An operand without a datapoint beside a time series WITH one (`+ - * /`, comparisons, AND / OR).
   * `'zero'` is documented (arithmetic: "Missing values in a time series are treated as 0";
   * comparisons: "treats the missing value in the other time series as 0"). `'drop'` (the result
   * has no datapoint) is CONTRARY to the page — and to its comparison and AND examples — and is kept
   * only as a stress reading, since the claim circulates (a review comment on
   * binbashar/le-tf-infra-aws#1102: a variable with missing data makes the whole expression
   * missing); compiler-explorer/infra#1661 reports the page's rule ("missing + 0" gives 0).
   */
  readonly missingBesideSeries: 'zero' | 'drop';
  /**
   * A time series without a datapoint against a scalar (`total >= 70`, `x / 0.001`). The page is
   * SILENT: "treated as 0" is said of time series against time series, whose other operand gives
   * the timestamp; against a scalar nothing does. `'drop'` (DOCUMENTED's choice): a series without a
   * datapoint stays without one. `'zero'`: as if every series were dense on the alarm's grid with
   * 0 where it has no datapoint.
   */
  readonly missingBesideScalar: 'drop' | 'zero';
  /**
   * A division by zero. `'drop'` is documented ("the data point is dropped"). `'ieee'` is CONTRARY
   * to the page and kept as a stress reading: the quotient is ±Infinity or NaN (0 / 0) and flows
   * on as a number (NaN compares false, and as an IF condition is "any other value": TRUE).
   */
  readonly divisionByZero: 'drop' | 'ieee';
  /**
   * IF whose condition is TRUE at the timestamp but whose true value has no datapoint there.
   * `'zero'` is documented for `IF(metric1, metric2, …)` ("has the value of 0"); for the
   * `IF(TS Comparison Operator S, …)` form the page lists only the value of metric2, so `'drop'`
   * (no datapoint, as for a missing false value) is a plausible reading of that form.
   */
  readonly missingTrueValue: 'zero' | 'drop';
}

/** The page's rules; where it is silent (a series without a datapoint against a scalar), `'drop'`. */
export const DOCUMENTED: Reading = { missingBesideSeries: 'zero', missingBesideScalar: 'drop', divisionByZero: 'drop', missingTrueValue: 'zero' };

const ALTERNATIVES: { readonly [K in keyof Reading]: ReadonlyArray<Reading[K]> } = {
  missingBesideSeries: ['zero', 'drop'],
  missingBesideScalar: ['drop', 'zero'],
  divisionByZero: ['drop', 'ieee'],
  missingTrueValue: ['zero', 'drop'],
};

/** `documented`, or the options where a reading departs from {@link DOCUMENTED}. */
export function readingName(reading: Reading): string {
  const departures = (Object.keys(ALTERNATIVES) as Array<keyof Reading>).filter((k) => reading[k] !== DOCUMENTED[k]).map((k) => `${k}=${reading[k]}`);
  return departures.length === 0 ? 'documented' : departures.join(', ');
}

/** Every combination of the {@link Reading} options (16), {@link DOCUMENTED} first. */
export const READINGS: ReadonlyArray<{ readonly name: string; readonly reading: Reading }> = (Object.keys(ALTERNATIVES) as Array<keyof Reading>)
  .reduce<Reading[]>((partial, key) => partial.flatMap((r) => ALTERNATIVES[key].map((option) => ({ ...r, [key]: option }))), [DOCUMENTED])
  .map((reading) => ({ name: readingName(reading), reading }));

/** The datapoint of each metric id at the timestamp; `undefined` when the metric has none there. */
export type Values = Readonly<Record<string, number | undefined>>;

/**
 * The expression's datapoint at the timestamp: a number (NaN and ±Infinity only under
 * `divisionByZero: 'ieee'`), or `undefined` when the expression has no datapoint there — the alarm's
 * TreatMissingData then applies.
 */
export type Evaluate = (values: Values, reading?: Reading) => number | undefined;

/** No datapoint at the timestamp: distinct from every number, NaN and ±Infinity included. */
const NO_DATAPOINT: unique symbol = Symbol('no datapoint');
type Datapoint = number | typeof NO_DATAPOINT;

/** A scalar (a number in the expression, or arithmetic on scalars only), or a time series' datapoint. */
type Value = { readonly scalar: true; readonly value: number } | { readonly scalar: false; readonly value: Datapoint };

const series = (value: Datapoint): Value => ({ scalar: false, value });
const NONE = series(NO_DATAPOINT);

type Node =
  | { kind: 'number'; value: number }
  | { kind: 'id'; name: string }
  | { kind: 'binary'; op: string; left: Node; right: Node }
  | { kind: 'call'; name: string; args: Node[] };

const COMPARISONS = ['>', '>=', '<', '<=', '==', '!='];

/** A compiled expression: its value at the timestamp, given each metric id's datapoint there. */
interface Compiled {
  readonly ids: ReadonlySet<string>;
  readonly run: (lookup: (id: string) => Datapoint, reading: Reading) => Value;
}

/** The datapoint a caller gives for a metric id: a finite number, or `undefined` for none. */
function given(values: Values, id: string): Datapoint {
  if (!(id in values)) throw new Error(`no value given for metric id ${id}`);
  const v = values[id];
  if (v !== undefined && !Number.isFinite(v)) throw new Error(`metric ${id}: a datapoint is a finite number, got ${v}`);
  return v ?? NO_DATAPOINT;
}

const result = ({ value }: Value): number | undefined => (value === NO_DATAPOINT ? undefined : value);

/** One expression; every metric id it names needs a value. */
export function parseExpression(text: string): Evaluate {
  const { run } = compile(text);
  return (values, reading = DOCUMENTED) => result(run((id) => given(values, id), reading));
}

/** The metric ids an expression names. */
export function referencedIds(text: string): ReadonlySet<string> {
  return compile(text).ids;
}

/** A query of an alarm's `Metrics` (AWS::CloudWatch::Alarm MetricDataQuery): a metric or an expression. */
export interface MetricDataQuery {
  readonly Id: string;
  readonly Expression?: string;
  readonly ReturnData?: boolean;
}

export interface AlarmQueries {
  /** The query the alarm evaluates (`ReturnData` true; there must be exactly one). */
  readonly returned: MetricDataQuery & { readonly Expression: string };
  /** Ids of the queries that read a metric, and of those that compute an expression. */
  readonly metricIds: readonly string[];
  readonly expressionIds: readonly string[];
  /**
   * The alarm's datapoint. `values` gives every metric query's datapoint, and may give an
   * expression query's (which is then taken as is instead of computed from its metrics).
   */
  readonly evaluate: Evaluate;
}

/**
 * A whole metric-math alarm: the returned expression, with the expression queries it names (a
 * derived count such as `bad = FILL(t5xx, 0) + …`) computed at the same timestamp under the same
 * reading; a query without a datapoint there is a series without one.
 */
export function parseAlarmQueries(metrics: readonly MetricDataQuery[]): AlarmQueries {
  const returned = metrics.filter((m) => m.ReturnData !== false);
  if (returned.length !== 1 || typeof returned[0].Expression !== 'string') throw new Error(`an alarm returns exactly one expression, got ${JSON.stringify(returned)}`);
  const compiled = new Map(metrics.flatMap((m) => (m.Expression === undefined ? [] : [[m.Id, compile(m.Expression)] as const])));
  const metricIds = metrics.filter((m) => m.Expression === undefined).map((m) => m.Id);
  return {
    returned: returned[0] as AlarmQueries['returned'],
    metricIds,
    expressionIds: [...compiled.keys()],
    evaluate: (values, reading = DOCUMENTED) => {
      const done = new Map<string, Datapoint>();
      const lookup = (id: string, path: readonly string[]): Datapoint => {
        if (id in values || !compiled.has(id)) return given(values, id);
        if (path.includes(id)) throw new Error(`queries refer to each other: ${[...path, id].join(' → ')}`);
        if (!done.has(id)) done.set(id, compiled.get(id)!.run((inner) => lookup(inner, [...path, id]), reading).value);
        return done.get(id)!;
      };
      return result(compiled.get(returned[0].Id)!.run((id) => lookup(id, [returned[0].Id]), reading));
    },
  };
}

function compile(text: string): Compiled {
  const tokens = text.match(/\s*(>=|<=|==|!=|&&|\|\||[-+*/(),<>]|[A-Za-z_][A-Za-z0-9_]*|[0-9.]+(?:e[-+]?[0-9]+)?)/g)?.map((t) => t.trim()) ?? [];
  if (tokens.join('') !== text.replace(/\s+/g, '')) throw new Error(`cannot tokenize ${text}`);
  let i = 0;
  const peek = () => tokens[i];
  const take = (expected?: string) => {
    const t = tokens[i++];
    if (expected !== undefined && t !== expected) throw new Error(`expected ${expected} at token ${i - 1} of ${text}, got ${t}`);
    return t;
  };
  const primary = (): Node => {
    const t = take();
    if (t === undefined) throw new Error(`unexpected end of ${text}`);
    if (t === '(') {
      const inner = logicalOr();
      take(')');
      return inner;
    }
    if (/^[0-9.]/.test(t)) return { kind: 'number', value: Number(t) };
    if (peek() === '(') {
      take('(');
      const args = [logicalOr()];
      while (peek() === ',') {
        take(',');
        args.push(logicalOr());
      }
      take(')');
      return { kind: 'call', name: t, args };
    }
    return { kind: 'id', name: t };
  };
  const term = (): Node => {
    let left = primary();
    while (peek() === '*' || peek() === '/') left = { kind: 'binary', op: take(), left, right: primary() };
    return left;
  };
  const additive = (): Node => {
    let left = term();
    while (peek() === '+' || peek() === '-') left = { kind: 'binary', op: take(), left, right: term() };
    return left;
  };
  const comparison = (): Node => {
    const left = additive();
    if (COMPARISONS.includes(peek())) return { kind: 'binary', op: take(), left, right: additive() };
    return left;
  };
  const logicalAnd = (): Node => {
    let left = comparison();
    while (peek() === 'AND' || peek() === '&&') {
      take();
      left = { kind: 'binary', op: 'AND', left, right: comparison() };
    }
    return left;
  };
  const logicalOr = (): Node => {
    let left = logicalAnd();
    while (peek() === 'OR' || peek() === '||') {
      take();
      left = { kind: 'binary', op: 'OR', left, right: logicalAnd() };
    }
    return left;
  };
  const root = logicalOr();
  if (i !== tokens.length) throw new Error(`trailing tokens in ${text}`);
  const ids = new Set<string>();
  const collect = (node: Node): void => {
    if (node.kind === 'id') ids.add(node.name);
    else if (node.kind === 'binary') [node.left, node.right].forEach(collect);
    else if (node.kind === 'call') node.args.forEach(collect);
  };
  collect(root);

  /** `op` on two datapoints; a division by zero is dropped (`NO_DATAPOINT`) or IEEE. */
  const apply = (op: string, a: number, b: number, reading: Reading): Datapoint => {
    switch (op) {
      case '+':
        return a + b;
      case '-':
        return a - b;
      case '*':
        return a * b;
      case '/':
        return b === 0 && reading.divisionByZero === 'drop' ? NO_DATAPOINT : a / b;
      case '>':
        return a > b ? 1 : 0;
      case '>=':
        return a >= b ? 1 : 0;
      case '<':
        return a < b ? 1 : 0;
      case '<=':
        return a <= b ? 1 : 0;
      case '==':
        return a === b ? 1 : 0;
      case '!=':
        return a !== b ? 1 : 0;
      case 'AND':
        return a !== 0 && b !== 0 ? 1 : 0;
      case 'OR':
        return a !== 0 || b !== 0 ? 1 : 0;
      default:
        throw new Error(`operator ${op} is not interpreted`);
    }
  };

  const binary = (op: string, a: Value, b: Value, reading: Reading): Value => {
    if (a.scalar && b.scalar) {
      const value = apply(op, a.value, b.value, reading);
      if (value === NO_DATAPOINT) throw new Error(`scalar division by zero in ${text}`);
      return { scalar: true, value };
    }
    let x = a.value;
    let y = b.value;
    if (x === NO_DATAPOINT && y === NO_DATAPOINT) return NONE;
    if (x === NO_DATAPOINT || y === NO_DATAPOINT) {
      const rule = a.scalar || b.scalar ? reading.missingBesideScalar : reading.missingBesideSeries;
      if (rule === 'drop') return NONE;
      if (x === NO_DATAPOINT) x = 0;
      else y = 0;
    }
    return series(apply(op, x as number, y as number, reading));
  };

  type Lookup = (id: string) => Datapoint;
  const evaluate = (node: Node, values: Lookup, reading: Reading): Value => {
    switch (node.kind) {
      case 'number':
        return { scalar: true, value: node.value };
      case 'id':
        return series(values(node.name));
      case 'call': {
        // Every argument is evaluated, as CloudWatch computes each argument's whole time series
        // before IF picks from them: an untaken branch's dropped datapoints (or, under
        // `divisionByZero: 'ieee'`, its NaN and ±Infinity) are computed, then discarded.
        const args = node.args.map((a) => evaluate(a, values, reading));
        if (node.name === 'FILL') {
          if (args.length !== 2) throw new Error(`FILL takes a time series and a filler value in ${text}`);
          const [ts, filler] = args;
          if (ts.scalar) throw new Error(`FILL of a scalar in ${text}`);
          return ts.value === NO_DATAPOINT ? series(filler.value) : ts;
        }
        if (node.name === 'FLOOR' || node.name === 'CEIL') {
          // "Returns the floor of each metric. The floor is the largest integer less than or equal
          // to each value" (CEIL: "the smallest integer greater than or equal"): per datapoint; a
          // timestamp without one stays without one.
          if (args.length !== 1) throw new Error(`${node.name} takes one time series in ${text}`);
          const [ts] = args;
          const round = node.name === 'FLOOR' ? Math.floor : Math.ceil;
          if (ts.scalar) return { scalar: true, value: round(ts.value) };
          return ts.value === NO_DATAPOINT ? NONE : series(round(ts.value));
        }
        if (node.name === 'IF') {
          if (args.length < 2 || args.length > 3) throw new Error(`IF takes 2 or 3 arguments in ${text}`);
          const [condition, whenTrue, whenFalse] = args;
          // IF(scalar1, …): the whole of one argument; "an empty time series" if it is omitted.
          if (condition.scalar) return condition.value !== 0 ? whenTrue : (whenFalse ?? NONE);
          // "is dropped if the corresponding data point in metric1 does not exist"
          if (condition.value === NO_DATAPOINT) return NONE;
          // FALSE "if the value of the condition data point is 0", TRUE for "any other value" (NaN too).
          if (condition.value !== 0) {
            if (whenTrue.value !== NO_DATAPOINT) return series(whenTrue.value);
            // "has the value of 0, if … metric1 is TRUE and the … data point does not exist in metric2"
            return reading.missingTrueValue === 'zero' ? series(0) : NONE;
          }
          // "is dropped, if … metric1 is FALSE and the … data point does not exist in metric3 or if
          // metric3 is omitted"
          return whenFalse === undefined ? NONE : series(whenFalse.value);
        }
        throw new Error(`function ${node.name} is not interpreted`);
      }
      case 'binary':
        return binary(node.op, evaluate(node.left, values, reading), evaluate(node.right, values, reading), reading);
    }
  };
  return { ids, run: (lookup, reading) => evaluate(root, lookup, reading) };
}
