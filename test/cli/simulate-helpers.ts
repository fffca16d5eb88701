import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { main } from '../../lib/cli/main';
import { SimulateEngine, runSimulate } from '../../lib/cli/simulate-command';

export interface Run {
  readonly code: number;
  readonly out: string;
  readonly err: string;
}

/** Runs the real CLI entry point, capturing stdout and stderr. */
export function run(args: string[]): Run {
  const out: string[] = [];
  const err: string[] = [];
  const code = main(args, (s) => out.push(s), (s) => err.push(s));
  return { code, out: out.join('\n'), err: err.join('\n') };
}

/** Runs `simulate` with another engine (a stub), capturing stdout and stderr. */
export function runWith(engine: SimulateEngine, args: string[]): Run {
  const out: string[] = [];
  const err: string[] = [];
  const code = runSimulate(args, (s) => out.push(s), (s) => err.push(s), engine);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

export function tempDir(prefix = 'rt-sim-'): { dir: string; files: () => string[]; remove: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, files: () => readdirSync(dir).sort(), remove: () => rmSync(dir, { recursive: true, force: true }) };
}

export interface XmlElement {
  readonly tag: string;
  readonly attributes: Record<string, string>;
  readonly children: XmlElement[];
  readonly text: string;
}

/** Validates and parses an XML document into a plain element tree (order preserved). */
export function parseXml(xml: string): XmlElement {
  const valid = XMLValidator.validate(xml);
  if (valid !== true) throw new Error(`invalid XML: ${JSON.stringify(valid.err)}`);
  const parser = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: '', preserveOrder: true, parseAttributeValue: false, trimValues: false });
  type Node = Record<string, unknown> & { ':@'?: Record<string, string> };
  const convert = (node: Node): XmlElement | undefined => {
    const tag = Object.keys(node).find((k) => k !== ':@')!;
    if (tag === '#text') return undefined;
    const rawChildren = (node[tag] as Node[]) ?? [];
    const children = rawChildren.map(convert).filter((c): c is XmlElement => c !== undefined);
    const text = rawChildren.filter((c) => '#text' in c).map((c) => String(c['#text'])).join('');
    return { tag, attributes: node[':@'] ?? {}, children, text };
  };
  const roots = (parser.parse(xml) as Node[]).map(convert).filter((c): c is XmlElement => c !== undefined);
  if (roots.length !== 1) throw new Error(`expected one root element, got ${roots.length}`);
  return roots[0];
}

/** Every element of a tree, depth first. */
export function descendants(root: XmlElement): XmlElement[] {
  return [root, ...root.children.flatMap(descendants)];
}

export function byClass(root: XmlElement, className: string): XmlElement[] {
  return descendants(root).filter((e) => (e.attributes.class ?? '').split(/\s+/).includes(className));
}

export function byId(root: XmlElement, id: string): XmlElement | undefined {
  return descendants(root).find((e) => e.attributes.id === id);
}

/** All text of an element and its descendants. */
export function textOf(element: XmlElement): string {
  return element.text + element.children.map(textOf).join('');
}

export const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
