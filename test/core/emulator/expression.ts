/**
 * A small interpreter of the CloudWatch metric-math subset the constructs render (numbers, metric
 * ids, + - * /, comparisons, IF, FILL), so a synthesized expression can be evaluated as CloudWatch
 * would and compared with the emulator. A metric id without a value is a missing datapoint:
 * arithmetic on it is missing, `FILL(x, v)` gives v, and `IF` on a missing condition is missing.
 */
export type Values = Readonly<Record<string, number | undefined>>;

type Node =
  | { kind: 'number'; value: number }
  | { kind: 'id'; name: string }
  | { kind: 'binary'; op: string; left: Node; right: Node }
  | { kind: 'call'; name: string; args: Node[] };

export function parseExpression(text: string): (values: Values) => number | undefined {
  const tokens = text.match(/\s*(>=|<=|[-+*/(),<>]|[A-Za-z_][A-Za-z0-9_]*|[0-9.]+(?:e[-+]?[0-9]+)?)/g)?.map((t) => t.trim()) ?? [];
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
    if (t === '(') {
      const inner = comparison();
      take(')');
      return inner;
    }
    if (/^[0-9.]/.test(t)) return { kind: 'number', value: Number(t) };
    if (peek() === '(') {
      take('(');
      const args = [comparison()];
      while (peek() === ',') {
        take(',');
        args.push(comparison());
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
    if (['>', '>=', '<', '<='].includes(peek())) return { kind: 'binary', op: take(), left, right: additive() };
    return left;
  };
  const root = comparison();
  if (i !== tokens.length) throw new Error(`trailing tokens in ${text}`);

  const evaluate = (node: Node, values: Values): number | undefined => {
    switch (node.kind) {
      case 'number':
        return node.value;
      case 'id':
        if (!(node.name in values)) throw new Error(`no value given for metric id ${node.name}`);
        return values[node.name];
      case 'call': {
        if (node.name === 'FILL') return evaluate(node.args[0], values) ?? evaluate(node.args[1], values);
        if (node.name === 'IF') {
          const condition = evaluate(node.args[0], values);
          if (condition === undefined) return undefined;
          return evaluate(condition !== 0 ? node.args[1] : node.args[2], values);
        }
        throw new Error(`function ${node.name} is not interpreted`);
      }
      case 'binary': {
        const a = evaluate(node.left, values);
        const b = evaluate(node.right, values);
        if (a === undefined || b === undefined) return undefined;
        switch (node.op) {
          case '+':
            return a + b;
          case '-':
            return a - b;
          case '*':
            return a * b;
          case '/':
            if (b === 0) throw new Error('division by zero: the expression lacks a guard');
            return a / b;
          case '>':
            return a > b ? 1 : 0;
          case '>=':
            return a >= b ? 1 : 0;
          case '<':
            return a < b ? 1 : 0;
          default:
            return a <= b ? 1 : 0;
        }
      }
    }
  };
  return (values) => evaluate(root, values);
}
