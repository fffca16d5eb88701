export * from './types';
export { simulate } from './simulate';
export { DEFAULT_EVALUATOR_SETTINGS } from './validate';
export { shiftPlan, type ShiftPlan, type ShiftStep } from './timeline';
