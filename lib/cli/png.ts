import type * as ResvgModule from '@resvg/resvg-js';

/**
 * Rasterizes the chart with resvg (@resvg/resvg-js: a Rust SVG renderer with prebuilt binaries in
 * per-platform npm packages, no system libraries, no browser). Loaded only when `--png` is asked, so
 * the text timeline, JSON and SVG work without it. It is not a dependency of the package: resvg
 * ships its native binary in one npm package per platform, so scripts/bundle.mjs leaves it out of
 * assets/cli/main.js and this `require` resolves it from the user's project, after their own
 * `npm install @resvg/resvg-js` (the AWS SDK of `approve` and `reject` is loaded the same way,
 * lib/cli/aws-clients.ts).
 */
export class PngUnavailableError extends Error {}

type Loader = () => typeof ResvgModule;
// eslint-disable-next-line @typescript-eslint/no-require-imports
const loadResvg: Loader = () => require('@resvg/resvg-js') as typeof ResvgModule;

/** Renders SVG text to PNG bytes at `scale` × the SVG's own size. */
export function svgToPng(svg: string, scale = 2, load: Loader = loadResvg): Uint8Array {
  let resvg: typeof ResvgModule;
  try {
    resvg = load();
  } catch (e) {
    throw new PngUnavailableError(
      `--png needs the resvg binary for ${process.platform}-${process.arch}, which could not be loaded (${(e as Error).message.split('\n')[0]}). ` +
        'Install it in your project with "npm install @resvg/resvg-js@2.6.2", or convert the --chart SVG with any SVG renderer; nothing was written',
    );
  }
  const renderer = new resvg.Resvg(svg, {
    fitTo: { mode: 'zoom', value: scale },
    background: '#ffffff',
    // The chart lists common families (DejaVu Sans, Helvetica, Arial…); the first installed one is used.
    font: { loadSystemFonts: true },
    logLevel: 'off',
  });
  return renderer.render().asPng();
}
