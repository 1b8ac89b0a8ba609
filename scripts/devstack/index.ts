// The dev-stack library: one place for run paths, the port plan, child processes and their
// supervision, the Temporal dev server, the Prometheus config, and the whole local stack.
export * from './paths';
export * from './ports';
export * from './proc';
export * from './prometheus';
export * from './service';
export * from './stack';
export * from './temporal';
