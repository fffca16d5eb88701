export * from './slo/burn-rate-tier';
export * from './slo/sli';
export * from './slo/service-level-objective';
export * from './trigger/threshold-trigger';
export * from './plan/rollback-plan';
export * from './rollback/rollback-target';
export * from './rollback/rollback-trigger';
export * from './audit/audit-event-schema';
