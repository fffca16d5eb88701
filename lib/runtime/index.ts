// `cdk-rollback-triggers/runtime`: the helper an agent's own code calls (on Lambda or ECS), bundled
// on its own into runtime/index.js. Not part of the construct library: lib/index.ts does not
// import it, and nothing here imports aws-cdk-lib or constructs (test/runtime checks both).
export {
  recordEvaluation,
  AGENT_DIMENSIONS,
  AGENT_METRICS,
  DEFAULT_AGENT_NAMESPACE,
  DEFAULT_CONFIDENCE_THRESHOLD,
  type EmfSink,
  type EvaluationInput,
  type EvaluationRecord,
} from './evaluation';
export { validateOutput, formatValidationErrors, type OutputValidation, type OutputValidationError } from './schema';
export {
  checkpoint,
  withCheckpoint,
  withCheckpointSync,
  type CheckpointOptions,
  type CheckpointRecordOptions,
  type CheckpointResult,
  type CheckpointStep,
  type CheckpointStepSync,
  type CheckpointSuccess,
  type CheckpointFailure,
  type CheckpointValidate,
  type CheckpointVerdict,
} from './checkpoint';
