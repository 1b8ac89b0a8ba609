// Starter entry point: telemetry first, then the HTTP API.
import { bootService } from '@greeter/shared/telemetry';
import pkg from '../package.json';

bootService({ serviceName: 'starter', serviceVersion: pkg.version }, () => require('./server') as typeof import('./server'));
