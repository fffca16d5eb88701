// The statistical canary judge: pure TypeScript shared by the evaluator Lambda and the simulator.
// Index of re-exports only; quadrature.ts and the validation helpers stay private.
export type { ProportionCounts } from './counts';
export { fisherExact, type FisherExactResult } from './fisher';
export {
  betaBinomialProbabilityWorse,
  UNIFORM_PRIOR,
  type BetaBinomialMethod,
  type BetaBinomialOptions,
  type BetaBinomialResult,
  type BetaPosterior,
  type BetaPrior,
} from './beta-binomial';
export * from './judge';
