// Worker entry point: telemetry first, then the worker.
import { bootService } from '@greeter/shared/telemetry';
import pkg from '../package.json';

bootService({ serviceName: 'worker', serviceVersion: pkg.version }, () => require('./server') as typeof import('./server'));
