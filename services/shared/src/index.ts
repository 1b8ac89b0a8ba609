// Public surface of the shared library. Telemetry lives in './telemetry' so it can
// be started before anything here (koa, http) is loaded.
export * from './config';
export * from './contract';
export * from './http';
export * from './log';
export * from './metrics';
export * from './names';
export * from './shutdown';
